"""The catalogue of AI testing capabilities: coverage of Art. 9-15, links that exist, latest results read back."""

import json

import pytest
from pydantic import ValidationError

from aifnb_widgets.sandboxes.ai_act.testing_catalogue import (
    CapabilityCatalogue,
    capability_table,
    latest_result,
    load_testing_catalogue,
    results_file,
    to_markdown,
)


def test_every_article_from_9_to_15_has_a_capability():
    """Issue 16, item 3: each requirement of Chapter III, Section 2 is mapped to at least one capability."""
    cites = " ".join(r.cites for r in load_testing_catalogue().requirements)
    for article in range(9, 16):
        assert f"Art. {article}(" in cites or f"Art. {article}," in cites, article


def test_a_catalogue_missing_an_article_is_refused():
    """Dropping the human-oversight requirement (Art. 14) fails validation, naming the article."""
    raw = load_testing_catalogue().model_dump(mode="json")
    raw["requirements"] = [r for r in raw["requirements"] if not r["cites"].startswith("Art. 14")]
    with pytest.raises(ValidationError, match="14"):
        CapabilityCatalogue.model_validate(raw)


def test_every_capability_links_a_catalogued_notebook(tmp_path):
    """Links come from the notebook catalogue; the table has one row per capability, none run yet."""
    table = capability_table(tmp_path)
    n_capabilities = sum(len(r.capabilities) for r in load_testing_catalogue().requirements)
    assert len(table) == n_capabilities and set(table["latest_result"]) == {"not run"}
    assert table["link"].str.startswith("../").all() and table["notebook"].str.len().gt(0).all()
    assert {"runnable", "partial", "manual"} <= set(table["coverage"])


def test_a_dead_notebook_link_is_refused(tmp_path):
    """A capability pointing at a notebook missing from the catalogue is an error naming it."""
    raw = load_testing_catalogue().model_dump(mode="json")
    raw["requirements"][0]["capabilities"][0]["notebook"] = "sandboxes/nope.ipynb"
    with pytest.raises(ValueError, match=r"nope\.ipynb"):
        capability_table(tmp_path, testing=CapabilityCatalogue.model_validate(raw))


def test_latest_result_reads_the_notebooks_metrics_json(tmp_path):
    """A metrics file named after the notebook is shown with its headline figures and date."""
    cap = next(c for r in load_testing_catalogue().requirements for c in r.capabilities if c.id == "prompt_injection")
    results_file(tmp_path, cap.notebook).write_text(json.dumps({"injection_pass_rate": 0.5, "usefulness": 1.0, "other": 3}))
    date, figures = latest_result(tmp_path, cap)
    assert figures == "injection_pass_rate=0.5, usefulness=1" and len(date) == 10
    markdown = to_markdown(capability_table(tmp_path))
    assert "injection_pass_rate=0.5" in markdown and "NOT legal advice" in markdown
