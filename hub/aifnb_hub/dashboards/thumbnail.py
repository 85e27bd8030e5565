"""A generated thumbnail, so every gallery card has a picture even when the trainer gives none."""

from __future__ import annotations

import textwrap
from html import escape

#: One colour per Factory service, so the gallery reads at a glance.
SERVICE_COLOURS = {"Upskill": "#1f6feb", "Assess": "#8250df", "Build & Test": "#1a7f37", "Scale & Run": "#bf3989"}


def title_card(title: str, service: str | None = None) -> str:
    """An SVG card with the title wrapped on up to three lines (escaped: titles are user input)."""
    colour = SERVICE_COLOURS.get(str(service or ""), "#57606a")
    lines = textwrap.wrap(title, 22)[:3]
    text = "".join(
        f'<text x="24" y="{70 + 34 * i}" font-size="26" font-family="sans-serif" fill="#fff">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    label = escape(str(service or "Dashboard"))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="225" viewBox="0 0 400 225">'
        f'<rect width="400" height="225" rx="12" fill="{colour}"/>'
        f'<text x="24" y="36" font-size="16" font-family="sans-serif" fill="#ffffffcc">{label}</text>'
        f"{text}</svg>"
    )
