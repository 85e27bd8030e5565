"""The access rule: members of an entry's groups see and use it; others are refused with who to ask."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifnb_data.access import AccessRefused, UnknownEntry, allowed, visible
from aifnb_data.cards import load_catalogue
from aifnb_data.demo import DEMO_CATALOGUE
from aifnb_slurm.validate import InvalidValue


@pytest.fixture(scope="module")
def demo():
    return load_catalogue([DEMO_CATALOGUE], [Path("/var/lib/aifnb/data")])


def test_learners_and_companies_see_different_catalogues(demo):
    """The demo shares health, credit, network, land-cover data and the non-commercial model with companies only."""
    learner = {item.entry.name for item in visible(demo, ["learners"])}
    company = {item.entry.name for item in visible(demo, ["companies"])}
    assert company - learner == {
        "breast-cancer-wisconsin",
        "credit-applications",
        "network-flows",
        "land-cover-patches",
        "tiny-t5",
    }
    assert learner < company
    assert visible(demo, []) == []


def test_refusal_names_entry_groups_and_contact(demo):
    """A learner asking for a company-only dataset is told whose it is and who to ask."""
    with pytest.raises(AccessRefused) as refused:
        allowed(demo, "breast-cancer-wisconsin", ["learners"])
    assert str(refused.value) == (
        "dataset 'breast-cancer-wisconsin' is shared with companies only, and you are in learners; "
        "ask health-data-board@ai-factory.example for access"
    )
    assert allowed(demo, "breast-cancer-wisconsin", ["companies"]).entry.name == "breast-cancer-wisconsin"


def test_unknown_and_forged_names(demo):
    """An unknown name says how to list; a forged one is refused by the allow-list before any lookup."""
    with pytest.raises(UnknownEntry, match=r"no entry named 'nope' .* `aifnb data list`"):
        allowed(demo, "nope", ["companies"])
    for forged in ("../iris", "iris\n", "IRIS", 7):
        with pytest.raises(InvalidValue, match=r"name: .* is not allowed; entry names are"):
            allowed(demo, forged, ["companies"])
