"""A notebook's metrics: the JSON every course and sandbox writes at its end, and its MLflow run.

One writer for all of them. The JSON goes to ``METRICS_PATH`` when one is given (CI, Scale & Run);
in an interactive session with the hub's MLflow service the same numbers are also logged as a
run of the user's experiment, so a company compares its sandbox runs without writing MLflow code.
Inside a Scale & Run job the runner logs the JSON itself (:func:`aifnb_widgets.mlops.job_run`),
so nothing is logged twice. In a hub session, reaching this point (after the notebook's own
asserts) is also reported as progress: the SME pathway's steps on the hub home are done when
their notebook ran to its end.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["json_ready", "write_metrics"]


def json_ready(value: Any) -> Any:
    """numpy/torch scalars to Python numbers, mapping keys to strings; a NaN or infinity is refused
    here, where the notebook can still say which metric, instead of making the JSON unreadable."""
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"metric value {value!r} is not finite")
    return value


def _run_name(path: Path | None) -> str:
    """The notebook's name: JupyterLab tells the kernel its notebook (JPY_SESSION_NAME), else the JSON's stem."""
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session.endswith(".ipynb"):
        return Path(session).stem
    return path.stem if path else "notebook"


def _log_to_mlflow(values: Mapping[str, Any], path: Path | None) -> None:
    from aifnb_widgets import mlops

    if not mlops.configured() or os.environ.get(mlops.JOB_RUN_VARIABLE):
        return
    import mlflow

    try:
        run = mlops.log_metrics(values, run_name=_run_name(path), artifact=path)
    except (mlops.MlflowServiceError, mlflow.exceptions.MlflowException) as exc:
        print(f"metrics not logged to MLflow: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        return
    print(f"metrics logged to MLflow: {mlops.run_url(run)}")


def write_metrics(path: str | os.PathLike[str] | None, metrics: Mapping[str, Any]) -> Path | None:
    """Write ``metrics`` as JSON to ``path`` (nothing when it is empty) and, in a session with the
    hub's MLflow service, log them as a run. Returns the path written, if any."""
    values = json_ready(metrics)
    written = None
    if path:
        written = Path(path)
        written.parent.mkdir(parents=True, exist_ok=True)
        written.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    _log_to_mlflow(values, written)
    _report_finished()
    return written


def _report_finished() -> None:
    """In a hub session, tell the hub this notebook ran to its end (a progress record of kind ``run``)."""
    from aifnb_widgets.teaching import progress

    session = os.environ.get("JPY_SESSION_NAME", "")
    if not (session.endswith(".ipynb") and os.environ.get("JUPYTERHUB_API_TOKEN")):
        return
    name = Path(session).stem
    if progress.ITEM.fullmatch(name):
        try:
            progress.record(name, "notebook", "run", True)
        except OSError as exc:  # a full or read-only home must not fail the notebook at its last cell
            print(f"progress not recorded: {exc}")
