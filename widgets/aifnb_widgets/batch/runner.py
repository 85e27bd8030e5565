"""What runs inside the job: papermill on the run folder's input.ipynb with its parameters.json.

Start and end times go into job.json from here, because a cluster without slurmdbd keeps no
other trace of them once the job leaves the queue. A failure keeps papermill's partial
executed.ipynb and writes the exception to error.txt and job.json; a SIGTERM (scancel,
walltime) is recorded as cancelled before Slurm's KillWait runs out.

When the job was submitted from a session with the hub's MLflow service, its folder holds the
job's credential (``mlflow.env``) and the execution is one MLflow run (a child of the sweep's
run for a sweep task) with the parameters, the notebook's metrics JSON and the executed
notebook (:func:`aifnb_widgets.mlops.job_run`); without it, or with the service down, the
notebook runs the same.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from aifnb_widgets import mlops
from aifnb_widgets.batch.layout import ERROR, EXECUTED, INPUT, PARAMETERS, JobRecord, now, write_record
from aifnb_widgets.batch.track import mark_running


class _Terminated(BaseException):
    """Raised in the main thread on SIGTERM, so papermill unwinds and the record is written."""


def _on_term(signum, frame):
    raise _Terminated()


def run(folder: Path) -> int:
    signal.signal(signal.SIGTERM, _on_term)
    record = mark_running(folder)
    parameters = json.loads((folder / PARAMETERS).read_text(encoding="utf-8"))
    notebook = folder / INPUT
    # In the notebook's own folder, so its relative paths mean what they meant in the session.
    cwd = Path(record.notebook).parent
    try:
        import papermill

        kernel = (
            json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {}).get("kernelspec", {}).get("name") or "python3"
        )
        with mlops.job_run(folder, parameters, name=run_name(record), metrics_path=metrics_path(parameters, cwd)):
            papermill.execute_notebook(
                str(notebook),
                str(folder / EXECUTED),
                parameters=parameters,
                cwd=str(cwd),
                kernel_name=kernel,
                progress_bar=False,
            )
    except _Terminated:
        record = record.model_copy(update={"status": "cancelled", "error": "stopped by SIGTERM (scancel or walltime)"})
        code = 143
    except Exception as exc:  # the notebook's own error, whatever it is, belongs in the record
        message = str(exc).strip() or type(exc).__name__
        (folder / ERROR).write_text(f"{type(exc).__name__}: {message}\n", encoding="utf-8")
        record = record.model_copy(update={"status": "failed", "error": message[-2000:]})
        code = 1
    else:
        record = record.model_copy(update={"status": "completed"})
        code = 0
    write_record(folder, record.model_copy(update={"ended_at": now()}))
    print(f"aifnb: notebook {record.status}; outputs in {folder}", flush=True)
    return code


def run_name(record: JobRecord) -> str:
    """The job's MLflow run: the notebook's name, and the task's index in a sweep."""
    stem = Path(record.notebook).stem
    return stem if record.task_id is None else f"{stem}[{record.task_id}]"


def metrics_path(parameters: dict, cwd: Path) -> Path | None:
    """Where the notebook writes its metrics JSON: its ``METRICS_PATH`` parameter (the platform
    notebooks' convention), relative to its folder; None when it has none."""
    value = parameters.get("METRICS_PATH")
    return cwd / value if isinstance(value, str) and value else None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m aifnb_widgets.batch.runner RUN_FOLDER", file=sys.stderr)
        return 2
    return run(Path(args[0]))


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # job.json already holds the end time; the interpreter's teardown (zmq contexts, the kernel
    # manager's threads) takes seconds on a loaded node, which Slurm would bill after that time.
    os._exit(code)
