"""Filtering and rendering catalogue entries: the pure half of the catalogue widget.

Works on the records the hub sends (:func:`aifnb_data.client.entries`), so the widget, the
notebooks and the tests filter and render the same way; no ipywidgets here.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Record = Mapping[str, Any]

#: Card fields in reading order, with their labels (a field missing from a record is skipped).
DATASET_FIELDS = (
    ("source", "Source"),
    ("provenance", "Provenance"),
    ("personal_data", "Personal data"),
    ("special_categories", "Special categories (GDPR Art. 9)"),
    ("legal_basis", "Legal basis (GDPR Art. 6)"),
    ("retention", "Retention"),
    ("anonymisation", "Anonymisation"),
    ("intended_uses", "Intended uses"),
    ("prohibited_uses", "Prohibited uses"),
    ("known_biases", "Known biases"),
)
MODEL_FIELDS = (
    ("parameters", "Parameters"),
    ("architecture", "Architecture"),
    ("languages", "Languages"),
    ("context_length", "Context length"),
    ("training_data", "Training data"),
    ("intended_uses", "Intended uses"),
    ("evaluations", "Evaluations"),
)


def filter_entries(
    records: Iterable[Record],
    *,
    kind: str | None = None,
    sector: str | None = None,
    licence: str | None = None,
    commercial_only: bool = False,
) -> list[Record]:
    """The records matching every filter given (None: any), in the order given."""
    return [
        r
        for r in records
        if (kind is None or r["kind"] == kind)
        and (sector is None or sector in r["sectors"])
        and (licence is None or r["licence"] == licence)
        and (not commercial_only or r["commercial_use"])
    ]


def facets(records: Sequence[Record]) -> dict[str, list[str]]:
    """The values each filter can take among ``records``: kinds, sectors, licences (sorted)."""
    return {
        "kind": sorted({r["kind"] for r in records}),
        "sector": sorted({s for r in records for s in r["sectors"]}),
        "licence": sorted({r["licence"] for r in records}),
    }


def _value(value: Any) -> str:
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], Mapping):  # evaluations
            return "<br>".join(
                f"{html.escape(str(v['name']))}: {html.escape(str(v['result']))} ({html.escape(str(v['link']))})" for v in value
            )
        return html.escape(", ".join(map(str, value))) if value else "<i>none</i>"
    return html.escape(str(value))


def card_html(record: Record) -> str:
    """An entry and its card as an HTML table, every value escaped."""
    fields = DATASET_FIELDS if record["kind"] == "dataset" else MODEL_FIELDS
    card = record.get("card", {})
    location = record.get("location") or f"{record.get('endpoint')} (served as {record.get('served_name')})"
    head = [
        ("Kind", record["kind"]),
        ("Format", record["format"]),
        ("Size", record["size"]),
        ("Licence", record["licence"]),
        ("Commercial use", "allowed" if record["commercial_use"] else "not allowed"),
        ("Shared with", record["groups"]),
        ("Sectors", record["sectors"]),
        ("Contact", record["contact"]),
        ("Location", location),
    ]
    rows = head + [(label, card[key]) for key, label in fields if key in card]
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{_value(v)}</td></tr>" for k, v in rows)
    return (
        f"<h4>{html.escape(record['title'])} <code>{html.escape(record['name'])}</code></h4>"
        f"<p>{html.escape(record['summary'])}</p><table>{body}</table>"
    )
