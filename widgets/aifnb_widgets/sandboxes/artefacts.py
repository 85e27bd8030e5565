"""Where sandbox notebooks put what they produce: an output folder, a readable report and a metrics JSON for CI."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd


def prepare_output_dir(output_dir: str | Path) -> Path:
    path = Path(output_dir).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _json_ready(value: Any) -> Any:
    """numpy scalars and NaNs would make the JSON unreadable by strict consumers: convert or refuse early."""
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"non-finite metric value {value!r}")
    return value


def write_metrics(metrics_path: str | Path, metrics: Mapping[str, Any]) -> Path | None:
    """Write the metrics JSON when a path is given (CI sets METRICS_PATH; interactive users leave it empty)."""
    if not metrics_path:
        return None
    path = Path(metrics_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_json_ready(metrics), indent=2, sort_keys=True), encoding="utf-8")
    return path


def markdown_table(df: pd.DataFrame, float_format: str = "{:.4g}") -> str:
    """pandas' to_markdown needs the optional ``tabulate`` package; this keeps reports dependency-free."""
    frame = df.reset_index() if df.index.name is not None else df

    def cell(v: Any) -> str:
        return float_format.format(v) if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(str(c) for c in frame.columns) + " |", "|" + " --- |" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def write_markdown_report(path: str | Path, title: str, sections: Mapping[str, str | pd.DataFrame | Mapping[str, Any]]) -> Path:
    """A plain report a reviewer can read without Jupyter: text, tables and metric dicts under ## headings."""
    parts = [f"# {title}", ""]
    for heading, body in sections.items():
        if isinstance(body, pd.DataFrame):
            body = markdown_table(body)
        elif isinstance(body, Mapping):
            body = markdown_table(pd.DataFrame({"metric": list(body), "value": list(body.values())}))
        parts += [f"## {heading}", "", body, ""]
    path = Path(path)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
