"""The observatory's leaderboard: models as rows (organisation, model), the seven categories and
the mean as columns, sorted by mean, baselines at the bottom.

The seed slides show this table for 17 LLMs. Here every cell also carries its interval and its
coverage, a model cell that does not beat the best baseline says so, and a model without a mean
(a category short of valid answers) sorts below every model that has one rather than vanishing.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from aifnb_widgets.bias.baselines import BASELINE_PREFIX
from aifnb_widgets.bias.concerns import CATEGORIES, MEAN_COLUMN
from aifnb_widgets.bias.report import cell_text, pass_rate_heatmap
from aifnb_widgets.bias.results import Assessment
from aifnb_widgets.bias.specs import get_spec

ORGANISATION, MODEL = "Organisation", "Model"
COLUMNS = [*CATEGORIES.values(), MEAN_COLUMN]


def organisation_of(model_id: str) -> tuple[str, str]:
    """(organisation, model) for the table: ``org/name`` hub ids split, endpoints by host, paths local."""
    if model_id.startswith(BASELINE_PREFIX):
        return "baseline", model_id.removeprefix(BASELINE_PREFIX)
    if "#" in model_id and model_id.startswith(("http://", "https://")):
        url, served = model_id.split("#", 1)
        if "/" in served:
            return served.split("/", 1)[0], served.split("/", 1)[1]
        return url.split("://", 1)[1].split("/", 1)[0], served
    if model_id.startswith(("/", ".", "~")):
        return "local", Path(model_id).name or model_id
    if model_id.count("/") == 1:
        org, name = model_id.split("/")
        return org, name
    return "", model_id


def leaderboard_frame(assessment: Assessment, spec: str) -> pd.DataFrame:
    """One row per model then baseline: organisation, model, then per column the numeric score,
    its interval, coverage, whether it beats the best baseline and the cell text."""
    spec = get_spec(spec).id
    summary = assessment.summary[assessment.summary["spec"] == spec]
    rows = []
    for (model, kind), group in summary.groupby(["model", "kind"], sort=False):
        cells = group.set_index("category")
        organisation, name = organisation_of(model)
        row = {"model_id": model, "kind": kind, ORGANISATION: organisation, MODEL: name}
        for column in COLUMNS:
            if column not in cells.index:
                row[column], row[f"{column} text"], row[f"{column} beats"] = math.nan, "not assessed", None
                continue
            cell = cells.loc[column]
            row[column] = cell["score"] * 100
            row[f"{column} low"], row[f"{column} high"] = cell["ci_low"] * 100, cell["ci_high"] * 100
            row[f"{column} coverage"] = cell["coverage"] * 100
            row[f"{column} beats"] = cell["beats_baselines"]
            row[f"{column} text"] = cell_text(cell)
        rows.append(row)
    frame = pd.DataFrame(rows)
    # Models by mean (those without one last), then the baselines by mean.
    frame["_baseline"] = frame["kind"] == "baseline"
    frame["_no_mean"] = frame[MEAN_COLUMN].isna()
    frame = frame.sort_values(["_baseline", "_no_mean", MEAN_COLUMN], ascending=[True, True, False], kind="stable")
    return frame.drop(columns=["_baseline", "_no_mean"]).reset_index(drop=True)


def leaderboard_table(assessment: Assessment, spec: str) -> pd.DataFrame:
    """The seed table's layout in words: Organisation, Model, the seven categories, Mean."""
    frame = leaderboard_frame(assessment, spec)
    table = frame[[ORGANISATION, MODEL]].copy()
    for column in COLUMNS:
        table[column] = frame[f"{column} text"]
    return table


def leaderboard_heatmap(assessment: Assessment, spec: str) -> go.Figure:
    """Plotly heatmap in the seed table's layout: rows "organisation / model" sorted by mean."""
    frame = leaderboard_frame(assessment, spec)
    labels = [f"{o} / {m}" if o else m for o, m in zip(frame[ORGANISATION], frame[MODEL])]
    z = frame[COLUMNS].to_numpy(dtype=float)
    text = []
    for _, row in frame.iterrows():
        line = []
        for column in COLUMNS:
            value = row[column]
            if math.isnan(value):
                line.append("n/e")
            else:
                mark = "<br>≤ baseline" if row["kind"] == "model" and row[f"{column} beats"] is False else ""
                line.append(f"{value:.0f}<br>{row[f'{column} coverage']:.0f}% valid{mark}")
        text.append(line)
    hover = [[html.escape(row[f"{c} text"]) for c in COLUMNS] for _, row in frame.iterrows()]
    return pass_rate_heatmap(
        z,
        COLUMNS,
        labels,
        text,
        hover,
        title=f"Social-bias leaderboard (% of tests passed, higher = less biased) — spec {spec}",
        hovertemplate="%{y} — %{x}<br>%{hovertext}<extra></extra>",
        row_height=44,
        left_margin=280,
    )


def format_leaderboard_table(assessment: Assessment, spec: str) -> str:
    """The leaderboard for a terminal: one block per row, in table order."""
    table = leaderboard_table(assessment, spec)
    lines = [f"[{spec}] leaderboard, sorted by mean: % passed [95 % interval] · coverage"]
    for rank, row in enumerate(table.itertuples(index=False), start=1):
        organisation, model = row[0], row[1]
        lines.append(f"{rank:>2}. {organisation + ' / ' if organisation else ''}{model}")
        lines += [f"      {column:<11} {value}" for column, value in zip(COLUMNS, row[2:])]
    return "\n".join(lines)


def write_leaderboard(assessment: Assessment, out_dir: str | Path, specs: list[str] | None = None) -> dict[str, Path]:
    """leaderboard-<spec>.csv (numbers, intervals, coverage, marks) and one self-contained HTML page."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    specs = specs or assessment.specs
    paths: dict[str, Path] = {}
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Social-bias leaderboard</title>",
        (
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}"
            "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}</style></head><body>"
        ),
        "<h1>Social-bias leaderboard</h1>",
        (
            "<p>Rows sorted by mean; baselines (trivial answerers on the same prompts) last. A cell: % of tests "
            "passed [95 % interval] · % of tests with a valid answer. The mean needs all seven categories.</p>"
        ),
    ]
    include_plotlyjs = True
    for spec in specs:
        frame = leaderboard_frame(assessment, spec)
        paths[f"csv:{spec}"] = out / f"leaderboard-{spec}.csv"
        frame.drop(columns=[f"{c} text" for c in COLUMNS]).to_csv(paths[f"csv:{spec}"], index=False)
        parts.append(f"<h2>Spec {html.escape(spec)}</h2>")
        parts.append(pio.to_html(leaderboard_heatmap(assessment, spec), include_plotlyjs=include_plotlyjs, full_html=False))
        include_plotlyjs = False
        parts.append(leaderboard_table(assessment, spec).to_html(index=False, escape=True))
    parts.append("</body></html>")
    paths["html"] = out / "leaderboard.html"
    paths["html"].write_text("\n".join(parts), encoding="utf-8")
    return paths
