"""Conformity self-assessment scoring and the documents it exports."""

import pytest

from aifnb_widgets.sandboxes.ai_act.conformity import (
    Readiness,
    Status,
    SystemDescription,
    assess,
    load_checklist,
    model_card,
    run_evidence_from_metrics,
    technical_documentation,
)


def _all(status: str) -> dict[str, str]:
    return {item.id: status for item in load_checklist().items}


def test_checklist_covers_articles_9_to_15_and_annex_vi():
    cites = {r.cites for r in load_checklist().requirements}
    assert {
        "Art. 9",
        "Art. 10",
        "Art. 11, Annex IV",
        "Art. 12",
        "Art. 13",
        "Art. 14",
        "Art. 15",
        "Art. 43, Annex VI",
        "Art. 16(l), 17-20, 72-73",
    } == cites


def test_checklist_has_the_provider_duties_issue_16_found_missing():
    """Art. 18, 19 (logs >= 6 months), 20, 72, 73, 16(l), 43(4) and 49 each have an item."""
    cites = " ".join(i.cites for i in load_checklist().items)
    for article in (
        "Art. 17(1)",
        "Art. 18(1)",
        "Art. 19(1)",
        "Art. 20(1)",
        "Art. 72(1)",
        "Art. 73(1)",
        "Art. 16(l)",
        "Art. 43(4)",
        "Art. 49(1)",
    ):
        assert article in cites, article
    logs = next(i for i in load_checklist().items if i.id == "po_logs_kept")
    assert "at least six months" in logs.text


def test_quality_management_system_is_not_mapped_to_an_annex_iv_point():
    """Annex IV has no QMS point; the old mapping put Art. 17 under point 7 (harmonised standards)."""
    for item in load_checklist().items:
        if "Art. 17" in item.cites:
            assert item.annex_iv == (), item.id


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
    assert result.overall == 1.0 and result.ready and result.readiness is Readiness.ready


def test_all_not_applicable_is_not_assessable_not_ready():
    """Issue 16, item 7: marking every requirement "not applicable" gave 100 % and "ready"."""
    result = assess(_all("not_applicable"))
    assert result.overall is None and not result.ready
    assert result.readiness is Readiness.not_assessable
    assert "n/a" in technical_documentation(SystemDescription(), result)


def test_one_requirement_entirely_not_applicable_blocks_readiness():
    """Art. 9-15 bind every high-risk system, so a whole requirement marked N/A cannot be "ready"."""
    answers = _all("done") | {
        i.id: "not_applicable" for r in load_checklist().requirements if r.id == "human_oversight" for i in r.items
    }
    result = assess(answers)
    assert not result.gaps and result.readiness is Readiness.not_assessable
    assert [r.id for r in result.not_assessable] == ["human_oversight"]


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
    assert "Apache-2.0" in card and "100 % complete, 0 open item(s); Ready" in card


def test_run_results_are_attached_and_cited_in_the_annex_iv_skeleton(tmp_path):
    """Evidence chain: a sandbox's metrics JSON becomes a run cited with id, date and figures under its Annex IV point."""
    metrics = tmp_path / "bias-metrics.json"
    metrics.write_text('{"gap_before": 0.21, "gap_after": 0.04, "n": 2000, "detail": {"x": 1}}')
    run = run_evidence_from_metrics(metrics, item="dg_bias", kind="bias")
    assert run.figures == {"gap_before": 0.21, "gap_after": 0.04, "n": 2000.0} and len(run.run_id) == 12
    doc = technical_documentation(SystemDescription(), assess({"dg_bias": "done"}, runs=[run]))
    section_2 = doc.split("## 2.")[1].split("## 3.")[0]
    assert run.run_id in section_2 and "gap_after=0.04" in section_2 and str(run.date) in section_2
    assert run.run_id in doc.split("## 3.")[1], "dg_bias also belongs under Annex IV point 3"
    assert run.run_id not in doc.split("## 4.")[1].split("## 5.")[0]


def test_runs_for_unknown_or_not_applicable_items_are_rejected(tmp_path):
    """A run cannot support an item that does not exist or that the provider declared not applicable."""
    metrics = tmp_path / "m.json"
    metrics.write_text('{"f1": 0.8}')
    with pytest.raises(ValueError, match="unknown"):
        assess({}, runs=[run_evidence_from_metrics(metrics, item="nope", kind="robustness")])
    with pytest.raises(ValueError, match="not applicable"):
        assess(
            {"ar_robustness": "not_applicable"},
            runs=[run_evidence_from_metrics(metrics, item="ar_robustness", kind="robustness")],
        )
