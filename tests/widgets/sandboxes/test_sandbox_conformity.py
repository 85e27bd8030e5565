"""Conformity self-assessment scoring and the documents it exports."""

import pytest

from aifnb_widgets.sandboxes.ai_act.conformity import (
    Status,
    SystemDescription,
    assess,
    load_checklist,
    model_card,
    technical_documentation,
)


def _all(status: str) -> dict[str, str]:
    return {item.id: status for item in load_checklist().items}


def test_checklist_covers_articles_9_to_15_and_annex_vi():
    cites = {r.cites for r in load_checklist().requirements}
    assert {"Art. 9", "Art. 10", "Art. 11, Annex IV", "Art. 12", "Art. 13", "Art. 14", "Art. 15", "Art. 43, Annex VI"} == cites


def test_scores_done_partial_todo_and_ignores_not_applicable():
    answers = _all("not_applicable") | {"rm_system": "done", "rm_identify": "partial", "rm_measures": "todo"}
    result = assess(answers)
    risk = next(r for r in result.requirements if r.id == "risk_management")
    assert risk.score == pytest.approx(0.5)
    assert all(r.score is None for r in result.requirements if r.id != "risk_management")
    assert result.overall == pytest.approx(0.5)
    assert [g.item.id for g in result.gaps] == ["rm_identify", "rm_measures"]


def test_everything_done_is_ready():
    result = assess(_all("done"))
    assert result.overall == 1.0 and result.ready


def test_unknown_status_or_item_is_rejected():
    with pytest.raises(ValueError):
        assess({"rm_system": "finished"})
    with pytest.raises(ValueError):
        assess({}, evidence={"no_item": "x"})


def test_technical_documentation_has_all_annex_iv_headings_and_evidence():
    system = SystemDescription(name="Credit scorer", metrics={"auc": 0.8123})
    doc = technical_documentation(system, assess({"dg_bias": "done"}, evidence={"dg_bias": "bias report v3"}))
    headings = [line for line in doc.splitlines() if line.startswith("## ")]
    assert [h.split(".")[0] for h in headings] == [f"## {i}" for i in range(1, 10)]
    assert "bias report v3" in doc and "| auc | 0.8123 |" in doc
    assert "NOT legal advice" in doc


def test_model_card_sections():
    card = model_card(SystemDescription(name="Credit scorer", licence="Apache-2.0"), assess(_all(Status.done.value)))
    for heading in ("## Model details", "## Intended use", "## Metrics", "## Training data", "## Caveats and recommendations"):
        assert heading in card
    assert "Apache-2.0" in card and "100 % complete, 0 open item(s)" in card
