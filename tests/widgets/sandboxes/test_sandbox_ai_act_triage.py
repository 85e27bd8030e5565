"""AI-Act triage rules on known cases, and the rule data's own consistency."""

import pytest
from pydantic import ValidationError

from aifnb_widgets.sandboxes.ai_act.triage import RiskTier, TriageRuleset, load_ruleset, triage


def test_social_scoring_is_prohibited_under_art_5_1_c():
    result = triage({"prohibited_practices": ["social_scoring"]})
    assert result.tier is RiskTier.prohibited
    assert "Art. 5(1)(c)" in result.articles


def test_cv_screening_for_recruitment_is_high_risk_under_annex_iii_4a():
    result = triage({"annex_iii_uses": ["recruitment"], "profiling": True})
    assert result.tier is RiskTier.high_risk
    assert "Art. 6(2), Annex III point 4(a)" in result.articles


def test_chatbot_carries_transparency_obligation_of_art_50_1():
    result = triage('{"interacts_with_people": true}')
    assert result.tier is RiskTier.transparency
    assert result.articles == ["Art. 50(1)"]


def test_no_answers_is_minimal_risk():
    assert triage(None).tier is RiskTier.minimal


def test_art_6_3_derogation_lifts_high_risk_unless_profiling():
    lifted = triage({"annex_iii_uses": ["recruitment"], "art6_3_conditions": ["preparatory_task"]})
    assert lifted.tier is RiskTier.minimal
    assert "Art. 6(3), Art. 6(4), Art. 49(2)" in lifted.articles
    kept = triage({"annex_iii_uses": ["recruitment"], "art6_3_conditions": ["preparatory_task"], "profiling": True})
    assert kept.tier is RiskTier.high_risk


def test_annex_i_product_needs_third_party_assessment():
    assert triage({"annex_i_product": True}).tier is RiskTier.minimal
    assert triage({"annex_i_product": True, "third_party_assessment": True}).tier is RiskTier.high_risk


def test_most_restrictive_tier_wins_and_transparency_still_listed():
    result = triage({"prohibited_practices": ["social_scoring"], "annex_iii_uses": ["creditworthiness"], "interacts_with_people": True})
    assert result.tier is RiskTier.prohibited
    assert {"Art. 5(1)(c)", "Art. 6(2), Annex III point 5(b)", "Art. 50(1)"} <= set(result.articles)


def test_military_use_is_out_of_scope_and_hides_other_rules():
    result = triage({"scope_exclusion": "military", "prohibited_practices": ["social_scoring"]})
    assert result.tier is RiskTier.out_of_scope
    assert result.articles == ["Art. 2(3)"]


def test_gpai_obligations_open_source_exemption_and_systemic_risk():
    assert triage({"gpai_model": True}).articles == ["Art. 53(1)"]
    assert triage({"gpai_model": True, "gpai_open_source": True}).articles == ["Art. 53(1)(c)-(d), Art. 53(2)"]
    systemic = triage({"gpai_model": True, "gpai_open_source": True, "gpai_compute_over_1e25": True}).articles
    assert systemic == ["Art. 53(1)", "Art. 51, Art. 52(1), Art. 55"]


def test_every_result_carries_the_not_legal_advice_disclaimer():
    assert "NOT legal advice" in triage(None).to_markdown()


@pytest.mark.parametrize(
    "answers",
    [{"no_such_question": True}, {"interacts_with_people": "yes"}, {"annex_iii_uses": ["recruiting"]}, {"scope_exclusion": "war"}],
)
def test_invalid_answers_are_rejected(answers):
    with pytest.raises(ValueError):
        triage(answers)


def test_ruleset_rejects_a_rule_pointing_at_an_unknown_option():
    raw = load_ruleset().model_dump(mode="json", exclude_none=True)
    raw["rules"][0]["when"] = {"question": "annex_iii_uses", "includes": "typo"}
    with pytest.raises(ValidationError, match="typo"):
        TriageRuleset.model_validate(raw)


def test_ruleset_rejects_unknown_keys():
    raw = load_ruleset().model_dump(mode="json", exclude_none=True)
    raw["rules"][0]["article"] = "Art. 5"
    with pytest.raises(ValidationError):
        TriageRuleset.model_validate(raw)


def test_every_annex_iii_option_has_a_rule():
    ruleset = load_ruleset()
    covered = {r.when.includes for r in ruleset.rules if r.when.question == "annex_iii_uses"}
    assert covered == set(ruleset.questionnaire.question("annex_iii_uses").option_ids)
