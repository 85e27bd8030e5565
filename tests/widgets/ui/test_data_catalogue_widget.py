"""The catalogue widget, headless: filters narrow the entries, the card shows the chosen one, escaped."""

from __future__ import annotations

from pathlib import Path

from aifnb_data.cards import load_catalogue
from aifnb_data.client import entry_record
from aifnb_data.demo import DEMO_CATALOGUE
from aifnb_widgets.ui.data_catalogue import DataCatalogueBrowser


def _records():
    return [entry_record(item) for item in load_catalogue([DEMO_CATALOGUE], [Path("/var/lib/aifnb/data")])]


def test_filters_narrow_the_entries():
    """Kind, sector, licence and commercial use each narrow the list; the card follows the selection."""
    browser = DataCatalogueBrowser(_records())
    assert len(browser.shown) == 10
    browser.kind.value = "model"
    assert browser.shown == ["tiny-gpt2", "tiny-t5"]
    browser.commercial.value = True
    assert browser.shown == ["tiny-gpt2"]
    assert "165632" in browser.card.value and "Commercial use" in browser.card.value
    browser.kind.value = "any"
    browser.commercial.value = False
    browser.sector.value = "health"
    assert browser.shown == ["breast-cancer-wisconsin"]
    assert "Legal basis (GDPR Art. 6)" in browser.card.value and "health-data-board@ai-factory.example" in browser.card.value
    browser.licence.value = "BSD-3-Clause"
    assert browser.shown == []
    assert "No entry matches" in browser.card.value


def test_card_values_are_escaped():
    """A card written with markup shows it as text, never as HTML."""
    records = _records()
    records[0] = records[0] | {"title": "<script>alert(1)</script>"}
    browser = DataCatalogueBrowser(records)
    browser.names.value = records[0]["name"]
    assert "<script>" not in browser.card.value and "&lt;script&gt;" in browser.card.value
