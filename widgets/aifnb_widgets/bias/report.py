"""Charts and exports of an assessment: the observatory-style heatmap, bars with intervals,
CSV/JSON tables and a self-contained HTML report (plotly.js inlined: clusters may be offline).
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from aifnb_widgets.bias.concerns import MEAN_COLUMN
from aifnb_widgets.bias.results import Assessment
from aifnb_widgets.bias.specs import get_spec


def heatmap(assessment: Assessment, spec: str) -> go.Figure:
    """Rows models (baselines last), columns categories + Mean, colour = pass rate, like the seed table."""
    table = assessment.leaderboard(spec)
    rows = assessment.summary[assessment.summary["spec"] == spec].set_index(["model", "category"])
    hover = [
        [_hover(rows.loc[(model, category)]) if (model, category) in rows.index else "" for category in table.columns]
        for model in table.index
    ]
    text = [[("" if math.isnan(v) else f"{v:.0f}") for v in row] for row in table.to_numpy()]
    figure = go.Figure(
        go.Heatmap(
            z=table.to_numpy(), x=list(table.columns), y=list(table.index), zmin=0, zmax=100,
            colorscale="RdYlGn", text=text, texttemplate="%{text}", hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>", colorbar={"title": "% passed"},
        )
    )
    figure.update_layout(
        title=f"Share of bias tests passed (higher = less biased) — spec {spec}",
        yaxis={"autorange": "reversed"}, height=160 + 40 * len(table.index), margin={"l": 220},
    )
    return figure


def bars(assessment: Assessment, spec: str) -> go.Figure:
    """Pass rate per category with 95 % intervals (Wilson per category, bootstrap for the mean)."""
    summary = assessment.summary[assessment.summary["spec"] == spec]
    figure = go.Figure()
    for model, rows in summary.groupby("model", sort=False):
        rate = rows["pass_rate"] * 100
        figure.add_bar(
            name=model, x=rows["category"], y=rate,
            error_y={"type": "data", "symmetric": False, "array": rows["ci_high"] * 100 - rate, "arrayminus": rate - rows["ci_low"] * 100},
        )
    figure.update_layout(barmode="group", yaxis={"title": "% passed", "range": [0, 105]}, title=f"Pass rate with 95 % interval — spec {spec}")
    return figure


def _hover(row) -> str:
    return (
        f"{row.name[0]} — {row.name[1]}<br>passed {row['pass_rate'] * 100:.1f} % "
        f"[{row['ci_low'] * 100:.1f}, {row['ci_high'] * 100:.1f}]<br>"
        f"{row['passed']} passed / {row['failed']} failed, {row['errors']} errors<br>"
        f"refusals {row['refusal_rate'] * 100:.0f} % of answers"
    )


def summary_json(assessment: Assessment) -> dict:
    return {
        "plan": assessment.plan.digest,
        "seed": assessment.plan.seed,
        "specs": {s: get_spec(s).description for s in assessment.specs},
        "leaderboards": {s: json.loads(assessment.leaderboard(s).round(2).to_json(orient="index")) for s in assessment.specs},
        "summary": json.loads(assessment.summary.to_json(orient="records")),
    }


def tests_table(assessment: Assessment):
    """The drill-down: every template, its filled prompts, answers and verdict."""
    return assessment.tests.drop(columns=["kind"])


def html_report(assessment: Assessment) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Bias assessment</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:3px 6px}</style></head><body>",
        "<h1>Social-bias assessment</h1>",
        f"<p>Plan {assessment.plan.digest}, seed {assessment.plan.seed}. A cell is the share of bias tests passed; "
        "the mean is the plain average of the categories. Baseline rows are trivial answerers on the same prompts.</p>",
    ]
    include_plotlyjs = True  # once, inline: the report must open without network
    for spec in assessment.specs:
        parts.append(f"<h2>Spec {html.escape(spec)}</h2><p>{html.escape(get_spec(spec).description)}</p>")
        for figure in (heatmap(assessment, spec), bars(assessment, spec)):
            parts.append(pio.to_html(figure, include_plotlyjs=include_plotlyjs, full_html=False))
            include_plotlyjs = False
        parts.append(assessment.leaderboard(spec).round(1).to_html(na_rep="–"))
    tests = tests_table(assessment).copy()
    tests["prompts"] = tests["prompts"].map(lambda p: " ‖ ".join(p))
    tests["answers"] = tests["answers"].map(lambda a: " ‖ ".join("<no answer>" if x is None else x for x in a))
    parts.append("<h2>Every test</h2>" + tests.to_html(index=False, escape=True))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(assessment: Assessment, out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "leaderboard.csv", "tests": out / "tests.csv", "json": out / "results.json", "html": out / "report.html"}
    assessment.summary.to_csv(paths["csv"], index=False)
    tests_table(assessment).to_csv(paths["tests"], index=False)
    paths["json"].write_text(json.dumps(summary_json(assessment), indent=1, ensure_ascii=False), encoding="utf-8")
    paths["html"].write_text(html_report(assessment), encoding="utf-8")
    return paths


def format_leaderboard(assessment: Assessment) -> str:
    """Plain-text tables for the terminal, one per spec."""
    blocks = []
    for spec in assessment.specs:
        table = assessment.leaderboard(spec).round(0)
        blocks.append(f"[{spec}] % of tests passed ({MEAN_COLUMN} = average of categories)\n{table.to_string(na_rep='-')}")
    return "\n\n".join(blocks)
