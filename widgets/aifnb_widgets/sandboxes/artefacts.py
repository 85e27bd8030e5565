"""Where sandbox notebooks put what they produce: an output folder, a readable report and a metrics JSON for CI."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from aifnb_widgets.metrics import write_metrics

__all__ = ["markdown_table", "prepare_output_dir", "write_markdown_report", "write_metrics"]


def prepare_output_dir(output_dir: str | Path) -> Path:
    path = Path(output_dir).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
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
