"""The models and datasets catalogue as a widget: filters (kind, sector, licence, commercial use),
the entries that match, and the chosen entry's card.

A thin view over :mod:`aifnb_data.render`; the records come from the hub
(:func:`aifnb_data.client.entries`), so a user sees only what their groups may use. Its state
(:attr:`DataCatalogueBrowser.shown`, the card's HTML) is what tests read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets

from aifnb_data.render import card_html, facets, filter_entries

ANY = "any"


class DataCatalogueBrowser(widgets.VBox):
    """Filters above, matching entries on the left, the selected entry's card on the right."""

    def __init__(self, records: Sequence[Mapping[str, Any]] | None = None, **kwargs: Any):
        if records is None:
            from aifnb_data.client import entries

            records = entries()
        self.records = list(records)
        values = facets(self.records)
        self.kind = widgets.Dropdown(options=[ANY, *values["kind"]], value=ANY, description="Kind")
        self.sector = widgets.Dropdown(options=[ANY, *values["sector"]], value=ANY, description="Sector")
        self.licence = widgets.Dropdown(options=[ANY, *values["licence"]], value=ANY, description="Licence")
        self.commercial = widgets.Checkbox(value=False, description="Commercial use allowed")
        self.names = widgets.Select(options=[], rows=10, description="Entries")
        self.card = widgets.HTML()
        for control in (self.kind, self.sector, self.licence, self.commercial):
            control.observe(self._refilter, names="value")
        self.names.observe(self._show, names="value")
        filters = widgets.HBox([self.kind, self.sector, self.licence, self.commercial])
        super().__init__([filters, widgets.HBox([self.names, self.card])], **kwargs)
        self._refilter()

    @property
    def shown(self) -> list[str]:
        """Names of the entries the filters let through."""
        return list(self.names.options)

    def _refilter(self, _change: object = None) -> None:
        def chosen(control: widgets.Dropdown) -> str | None:
            return None if control.value == ANY else control.value

        matching = filter_entries(
            self.records,
            kind=chosen(self.kind),
            sector=chosen(self.sector),
            licence=chosen(self.licence),
            commercial_only=self.commercial.value,
        )
        self.names.options = [r["name"] for r in matching]
        self.names.value = self.names.options[0] if self.names.options else None
        self._show()

    def _show(self, _change: object = None) -> None:
        record = next((r for r in self.records if r["name"] == self.names.value), None)
        self.card.value = card_html(record) if record else "<i>No entry matches these filters.</i>"
