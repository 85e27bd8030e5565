"""Plotly figures shared by the sandboxes, so every notebook reports results in the same visual language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

_PERCENT_AXIS = dict(range=[0, 100], ticksuffix=" %")


def maturity_radar(scores: Mapping[str, float], title: str = "AI maturity by dimension") -> go.Figure:
    """Closed radar of 0-100 scores; the first point is repeated so the polygon closes."""
    labels = list(scores)
    values = [scores[k] for k in labels]
    fig = go.Figure(go.Scatterpolar(r=values + values[:1], theta=labels + labels[:1], fill="toself", name="score"))
    fig.update_layout(title=title, polar=dict(radialaxis=dict(visible=True, **_PERCENT_AXIS)), showlegend=False)
    return fig


def percent_bars(values: Mapping[str, float], title: str, threshold: float | None = None, axis_title: str = "%") -> go.Figure:
    """Horizontal bars of fractions in [0, 1] shown as percentages, with an optional pass-line."""
    names = list(values)
    fig = go.Figure(go.Bar(x=[100 * values[n] for n in names], y=names, orientation="h"))
    fig.update_layout(title=title, xaxis=dict(title=axis_title, **_PERCENT_AXIS), yaxis=dict(autorange="reversed"))
    if threshold is not None:
        fig.add_vline(x=100 * threshold, line_dash="dash", annotation_text=f"target {100 * threshold:.0f} %")
    return fig


def grouped_bars(rows: Sequence[Mapping[str, float | str]], category: str, series: Sequence[str], title: str) -> go.Figure:
    """One bar group per row (e.g. per candidate model or per protected group), one bar per series."""
    fig = go.Figure([go.Bar(name=s, x=[r[category] for r in rows], y=[r[s] for r in rows]) for s in series])
    fig.update_layout(title=title, barmode="group")
    return fig
