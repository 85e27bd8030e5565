"""Charts and exports of an assessment: the observatory-style heatmap, bars with intervals,
CSV/JSON tables and a self-contained HTML report (plotly.js inlined: clusters may be offline).
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from aifnb_widgets.bias.baselines import BASELINE_PREFIX
from aifnb_widgets.bias.concerns import MEAN_COLUMN
from aifnb_widgets.bias.results import (
    BELOW_BASELINE,
    NOT_ENOUGH,
    Assessment,
    tolerance_table,
)
from aifnb_widgets.bias.specs import get_spec


def cell_text(row, html_breaks: bool = False) -> str:
    """One table cell in words: pass rate with interval and coverage, or why there is none.

    Every table of the project (terminal, dashboard, HTML export) is built from this, so a
    number never appears without how much of the category it rests on.
    """
    sep = "<br>" if html_breaks else " · "
    coverage = f"valid {row['coverage']:.0%}"
    extra = [f"refused {row['refused_share']:.0%}"] if row["refused_share"] else []
    extra += [f"errors {row['error_share']:.0%}"] if row["error_share"] else []
    extra += [f"missing {row['missing_share']:.0%}"] if row["missing_share"] else []
    coverage = ", ".join([coverage, *extra])
    if math.isnan(row["score"]):
        return f"{row['note'] or NOT_ENOUGH}{sep}{coverage}"
    text = f"{row['score'] * 100:.0f} [{row['ci_low'] * 100:.0f}–{row['ci_high'] * 100:.0f}]{sep}{coverage}"
    if row["kind"] == "model" and row["beats_baselines"] is False:
        text += f"{sep}{row['note']}"
    return text


def cells_table(assessment: Assessment, spec: str, html_breaks: bool = False) -> pd.DataFrame:
    """The leaderboard as text cells (rows models then baselines, columns categories + Mean)."""
    table = assessment.leaderboard(spec)
    rows = assessment.summary[assessment.summary["spec"] == spec].set_index(["model", "category"]).sort_index()
    return pd.DataFrame(
        [[cell_text(rows.loc[(m, c)], html_breaks) if (m, c) in rows.index else "" for c in table.columns] for m in table.index],
        index=table.index,
        columns=table.columns,
    )


def heatmap(assessment: Assessment, spec: str) -> go.Figure:
    """Rows models (baselines last), columns categories + Mean, colour = pass rate, like the seed table.

    Each cell shows the pass rate and its coverage; a cell without enough valid answers is grey
    and says so, and a model cell that does not beat the best baseline says that too.
    """
    table = assessment.leaderboard(spec)
    rows = assessment.summary[assessment.summary["spec"] == spec].set_index(["model", "category"]).sort_index()
    hover, text = [], []
    for model in table.index:
        hover.append([_hover(rows.loc[(model, c)]) if (model, c) in rows.index else "" for c in table.columns])
        text.append([_short(rows.loc[(model, c)]) if (model, c) in rows.index else "" for c in table.columns])
    return pass_rate_heatmap(
        table.to_numpy(),
        list(table.columns),
        list(table.index),
        text,
        hover,
        title=f"Share of bias tests passed (higher = less biased), with % valid answers — spec {spec}",
        hovertemplate="%{hovertext}<extra></extra>",
        row_height=48,
        left_margin=220,
    )


def pass_rate_heatmap(
    z, columns: list[str], rows: list[str], text, hover, *, title: str, hovertemplate: str, row_height: int, left_margin: int
) -> go.Figure:
    """Pass rates as a red-to-green 0-100 heatmap, one row per model or baseline, the first row on
    top: the look of the seed's table, shared by the report and the leaderboard."""
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=columns,
            y=rows,
            zmin=0,
            zmax=100,
            colorscale="RdYlGn",
            text=text,
            texttemplate="%{text}",
            hovertext=hover,
            hovertemplate=hovertemplate,
            colorbar={"title": "% passed"},
        )
    )
    figure.update_layout(
        title=title,
        yaxis={"autorange": "reversed"},
        height=180 + row_height * len(rows),
        margin={"l": left_margin},
        plot_bgcolor="#dddddd",
    )
    return figure


def _short(row) -> str:
    if math.isnan(row["score"]):
        return f"n/e<br>{row['coverage']:.0%} valid"
    mark = "<br>≤ baseline" if row["kind"] == "model" and row["beats_baselines"] is False else ""
    return f"{row['score'] * 100:.0f}<br>{row['coverage']:.0%} valid{mark}"


def bars(assessment: Assessment, spec: str) -> go.Figure:
    """Pass rate per category with 95 % intervals (Wilson per category, bootstrap for the mean)."""
    summary = assessment.summary[(assessment.summary["spec"] == spec) & assessment.summary["enough"]]
    figure = go.Figure()
    for model, rows in summary.groupby("model", sort=False):
        rate = rows["pass_rate"] * 100
        figure.add_bar(
            name=model,
            x=rows["category"],
            y=rate,
            customdata=rows["coverage"] * 100,
            hovertemplate="%{x}: %{y:.0f} % passed, %{customdata:.0f} % valid answers<extra>" + html.escape(model) + "</extra>",
            error_y={
                "type": "data",
                "symmetric": False,
                "array": rows["ci_high"] * 100 - rate,
                "arrayminus": rate - rows["ci_low"] * 100,
            },
        )
    figure.update_layout(
        barmode="group", yaxis={"title": "% passed", "range": [0, 105]}, title=f"Pass rate with 95 % interval — spec {spec}"
    )
    return figure


def _hover(row) -> str:
    head = f"{row.name[0]} — {row.name[1]}<br>"
    if math.isnan(row["pass_rate"]):
        rate = "no pass rate"
    else:
        rate = f"passed {row['pass_rate'] * 100:.1f} % [{row['ci_low'] * 100:.1f}, {row['ci_high'] * 100:.1f}]"
    return (
        f"{head}{rate}<br>{row['passed']} passed / {row['failed']} failed of {row['tests']} tests<br>"
        f"valid {row['coverage']:.0%}, refused {row['refused_share']:.0%}, errors {row['error_share']:.0%}, "
        f"missing {row['missing_share']:.0%}<br>"
        + (f"{html.escape(row['note'])}<br>" if row["note"] else "")
        + (f"best baseline: {row['best_baseline']} {row['best_baseline_score'] * 100:.0f} %" if row["best_baseline"] else "")
    )


def summary_json(assessment: Assessment) -> dict:
    return {
        "plan": assessment.plan.digest,
        "seed": assessment.plan.seed,
        "specs": {s: get_spec(s).description for s in assessment.specs},
        "leaderboards": {s: json.loads(assessment.leaderboard(s).round(2).to_json(orient="index")) for s in assessment.specs},
        "cells": {s: json.loads(cells_table(assessment, s).to_json(orient="index")) for s in assessment.specs},
        "incomplete": {m: {"missing_tests": gap, "planned_tests": total} for m, (gap, total) in assessment.incomplete().items()},
        "summary": json.loads(assessment.summary.to_json(orient="records")),
    }


def tests_table(assessment: Assessment):
    """The drill-down: every template, its filled prompts, answers and verdict."""
    return assessment.tests.drop(columns=["kind"])


def html_report(assessment: Assessment) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Bias assessment</title>",
        (
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}"
            "td,th{border:1px solid #ccc;padding:3px 6px}</style></head><body>"
        ),
        "<h1>Social-bias assessment</h1>",
        (
            f"<p>Plan {assessment.plan.digest}, seed {assessment.plan.seed}. A cell is the share of bias tests passed "
            "with its 95 % interval, then the share of the category's tests with a valid answer (and those refused, "
            "errored or missing). A cell below the spec's coverage threshold says <em>not enough valid answers</em>; "
            "the mean, the plain average of the seven categories, is given only when all seven have a pass rate. "
            "Baseline rows are trivial answerers on the same prompts; a model cell that does not beat the best of "
            "them says so.</p>"
        ),
    ]
    include_plotlyjs = True  # once, inline: the report must open without network
    for spec in assessment.specs:
        parts.append(f"<h2>Spec {html.escape(spec)}</h2><p>{html.escape(get_spec(spec).description)}</p>")
        for figure in (heatmap(assessment, spec), bars(assessment, spec)):
            parts.append(pio.to_html(figure, include_plotlyjs=include_plotlyjs, full_html=False))
            include_plotlyjs = False
        parts.append(cells_table(assessment, spec).to_html(escape=True))
        if get_spec(spec).rules == "langbite":
            parts.append("<h3>LangBiTe's verdict per requirement (tolerance)</h3>")
            parts.append(tolerance_table(assessment, spec).to_html(index=False, escape=True))
    tests = tests_table(assessment)
    tests = tests[~tests["model"].str.startswith(BASELINE_PREFIX)].copy()  # baselines: see the tables
    tests["prompts"] = tests["prompts"].map(lambda p: " ‖ ".join(p))
    tests["answers"] = tests["answers"].map(lambda a: " ‖ ".join("<no answer>" if x is None else x for x in a))
    parts.append("<h2>Every test of every model</h2>" + tests.to_html(index=False, escape=True))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(assessment: Assessment, out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": out / "leaderboard.csv",
        "tests": out / "tests.csv",
        "json": out / "results.json",
        "html": out / "report.html",
    }
    assessment.summary.to_csv(paths["csv"], index=False)
    tests_table(assessment).to_csv(paths["tests"], index=False)
    paths["json"].write_text(json.dumps(summary_json(assessment), indent=1, ensure_ascii=False), encoding="utf-8")
    paths["html"].write_text(html_report(assessment), encoding="utf-8")
    return paths


def format_leaderboard(assessment: Assessment) -> str:
    """Plain-text tables for the terminal, one per spec, each cell with its coverage, then the
    cells where a model does not beat the best baseline, in words."""
    blocks = []
    for spec in assessment.specs:
        cells = cells_table(assessment, spec)
        lines = [
            (
                f"[{spec}] % of tests passed [95 % interval] · % of tests with a valid answer "
                f"({MEAN_COLUMN} = average of the seven categories, only when all seven have enough valid answers)"
            )
        ]
        for model in cells.index:
            lines.append(f"{model}")
            lines += [f"  {category:<11} {cells.loc[model, category]}" for category in cells.columns]
        summary = assessment.summary[(assessment.summary["spec"] == spec) & (assessment.summary["kind"] == "model")]
        below = summary[~summary["beats_baselines"].astype(bool)]
        for model, rows in below.groupby("model", sort=False):
            lines.append(f"{model} {BELOW_BASELINE} in: {', '.join(rows['category'])}")
        blocks.append("\n".join(lines))
    gaps = assessment.incomplete()
    for model, (missing, total) in gaps.items():
        blocks.append(f"INCOMPLETE: {model} has no answer for {missing} of {total} tests")
    return "\n\n".join(blocks)
