"""The dashboards driven headless: set widget values, read the evaluated state."""

from aifnb_widgets.sandboxes.ai_act.triage import RiskTier
from aifnb_widgets.sandboxes.ui.assessment_apps import ConformityApp, MaturityApp, TriageApp


def test_triage_app_starts_from_answers_and_follows_the_widgets(tmp_path):
    app = TriageApp({"interacts_with_people": True}, output_dir=tmp_path)
    assert app.result.tier is RiskTier.transparency and "Art. 50(1)" in app.summary.value
    app.form.controls["annex_iii_uses"]["recruitment"].value = True
    assert app.result.tier is RiskTier.high_risk
    assert app.form.answers["annex_iii_uses"] == ["recruitment"]
    assert "NOT LEGAL ADVICE" in app.summary.value
    assert "Annex III point 4(a)" in app.export()["report"].read_text()


def test_triage_app_names_whose_duty_each_rule_is(tmp_path):
    """A deployer sees the Art. 43 advice marked as the provider's duty."""
    app = TriageApp({"role": "deployer", "annex_iii_uses": ["recruitment"], "profiling": True}, output_dir=tmp_path)
    assert "duty of the provider" in app.summary.value and "Art. 26" in app.summary.value


def test_maturity_app_updates_scores(tmp_path):
    app = MaturityApp({"skills_technical": "4"}, output_dir=tmp_path)
    before = app.result.overall
    app.form.controls["data_quality"].value = "4"
    assert app.result.overall > before
    assert list(app.figure().data[0].theta)[:5] == ["Strategy", "Data", "Skills", "Infrastructure", "Governance"]
    paths = app.export()
    assert paths["radar"].stat().st_size > 0 and '"overall"' in paths["result"].read_text()


def test_conformity_app_exports_both_documents(tmp_path):
    app = ConformityApp({"rm_system": "done"}, output_dir=tmp_path)
    app.form.controls["rm_identify"].value = "done"
    assert app.assessment.requirements[0].score > 0.2
    paths = app.export()
    assert paths["technical_documentation"].read_text().startswith("# Technical documentation")
    assert paths["model_card"].stat().st_size > 0


def test_questionnaire_form_round_trips_answers_and_rejects_bad_ones():
    import pytest

    from aifnb_widgets.sandboxes.ai_act.triage import load_ruleset
    from aifnb_widgets.sandboxes.ui.questionnaire_form import QuestionnaireForm

    form = QuestionnaireForm(load_ruleset().questionnaire)
    seen = []
    form.on_change(seen.append)
    form.set_answers({"annex_iii_uses": ["justice", "recruitment"], "scope_exclusion": "military"})
    assert len(seen) == 1, "set_answers notifies once"
    assert form.answers["annex_iii_uses"] == ["recruitment", "justice"]  # questionnaire order
    assert form.controls["scope_exclusion"].value == "military"
    with pytest.raises(ValueError):
        form.set_answers({"scope_exclusion": "war"})
    assert form.controls["scope_exclusion"].value == "military", "a rejected update changes nothing"
