"""AI-Act triage rules on known cases, and the rule data's own consistency."""

import pytest
from pydantic import ValidationError

from aifnb_widgets.sandboxes.ai_act.triage import Duty, RiskTier, TriageRuleset, load_ruleset, triage


def test_social_scoring_is_prohibited_under_art_5_1_c():
    result = triage({"prohibited_practices": ["social_scoring"]})
    assert result.tier is RiskTier.prohibited
    assert "Art. 5(1)(c)" in result.articles


def test_cv_screening_for_recruitment_is_high_risk_under_annex_iii_4a():
    result = triage({"annex_iii_uses": ["recruitment"], "profiling": True})
    assert result.tier is RiskTier.high_risk
    assert "Art. 6(2), Annex III point 4(a)" in result.articles


def test_chatbot_carries_transparency_obligation_of_art_50_1():
    result = triage('{"interacts_with_people": true, "role": "provider"}')
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
    assert triage({"annex_i_product": "section_a"}).tier is RiskTier.minimal
    assert triage({"annex_i_product": "section_a", "third_party_assessment": True}).tier is RiskTier.high_risk


def test_most_restrictive_tier_wins_and_transparency_still_listed():
    result = triage(
        {"prohibited_practices": ["social_scoring"], "annex_iii_uses": ["creditworthiness"], "interacts_with_people": True}
    )
    assert result.tier is RiskTier.prohibited
    assert {"Art. 5(1)(c)", "Art. 6(2), Annex III point 5(b)", "Art. 50(1)"} <= set(result.articles)


def test_military_use_is_out_of_scope_but_keeps_the_rules_that_return_if_the_use_changes():
    result = triage({"scope_exclusion": "military", "prohibited_practices": ["social_scoring"]})
    assert result.tier is RiskTier.out_of_scope
    assert result.articles == ["Art. 2(3)"]
    assert [r.cites for r in result.if_exclusion_lapses] == ["Art. 5(1)(c)"]
    assert "outside that exclusion" in result.to_markdown()


def test_gpai_obligations_open_source_exemption_and_systemic_risk():
    provider = {"gpai_model": True, "role": "provider"}
    assert triage(provider).articles == ["Art. 53(1)"]
    assert triage(provider | {"gpai_open_source": True}).articles == ["Art. 53(1)(c)-(d), Art. 53(2)"]
    systemic = triage(provider | {"gpai_open_source": True, "gpai_compute_over_1e25": True}).articles
    assert systemic == ["Art. 53(1)", "Art. 51, Art. 52(1), Art. 55"]


def test_gpai_only_result_is_a_gpai_tier_not_minimal_risk():
    """Issue 16, AI Act item 2: Art. 53 obligations were reported as "minimal risk: no specific obligations"."""
    plain = triage({"gpai_model": True, "role": "provider"})
    assert plain.tier is RiskTier.gpai and "Art. 53" in plain.tier_label and "Minimal" not in plain.tier_label
    systemic = triage({"gpai_model": True, "gpai_compute_over_1e25": True, "role": "provider"})
    assert systemic.tier is RiskTier.gpai_systemic_risk and "Art. 55" in systemic.tier_label
    assert triage({"gpai_model": True, "interacts_with_people": True}).tier is RiskTier.gpai


def test_provider_of_a_personal_assistant_still_gets_art_5_checks():
    """Issue 16, item 1: Art. 2(10) must not take a provider's system out of the Act."""
    result = triage({"role": "provider", "prohibited_practices": ["manipulation"], "interacts_with_people": True})
    assert result.tier is RiskTier.prohibited
    assert "Art. 5(1)(a)" in result.articles and "Art. 50(1)" in result.articles
    assert "Art. 2(10)" not in result.articles


def test_art_2_10_removes_only_the_duties_of_a_personal_deployer():
    """A natural person in purely personal use keeps the system's tier but loses the deployer-only duties."""
    answers = {
        "prohibited_practices": ["manipulation"],
        "deployer_emotion_or_categorisation": True,
        "interacts_with_people": True,
    }
    personal = triage(answers | {"role": "personal_user"})
    assert personal.tier is RiskTier.prohibited
    assert {"Art. 2(10)", "Art. 5(1)(a)", "Art. 50(1)"} <= set(personal.articles)
    assert "Art. 50(3)" not in personal.articles, "Art. 50(3) is a deployer duty, removed by Art. 2(10)"
    art50_1 = next(r for r in personal.triggered if r.cites == "Art. 50(1)")
    assert art50_1.addressed_to(personal.duties) == "duty of the provider"
    professional = triage(answers | {"role": "deployer"})
    assert "Art. 50(3)" in professional.articles and "Art. 2(10)" not in professional.articles


def test_pre_market_research_is_a_note_not_an_exit_from_the_act():
    """Art. 2(8) excludes the R&D activity, not the system once placed on the market."""
    result = triage({"scope_exclusion": "pre_market_rd", "annex_iii_uses": ["creditworthiness"], "profiling": True})
    assert result.tier is RiskTier.high_risk
    assert "Art. 2(8)" in result.articles


def test_annex_i_section_b_gets_only_art_6_1_102_to_109_and_112():
    """Art. 2(2): no Art. 8-49 duties or Art. 43 advice for aviation, vehicles, marine or rail products."""
    result = triage({"annex_i_product": "section_b", "third_party_assessment": True, "role": "provider_and_deployer"})
    assert result.tier is RiskTier.high_risk
    assert result.articles == ["Art. 6(1), Art. 2(2), Annex I Section B"]
    assert "Art. 102-109 and Art. 112" in result.triggered[0].explanation
    assert "Art. 3(3), Art. 3(4), Art. 25(1)" in triage({"role": "not_sure"}).articles, "an unknown role is said, not guessed"
    section_a = triage({"annex_i_product": "section_a", "third_party_assessment": True, "role": "provider"})
    assert "Art. 16, Art. 43(3)" in section_a.articles
    art26 = next(r for r in section_a.triggered if r.cites == "Art. 26, Art. 86")
    assert art26.addressed_to(section_a.duties) == "duty of the deployer"


def test_conformity_assessment_advice_is_addressed_to_the_provider():
    """Art. 43 / Annex VI is a provider duty: a deployer sees it as the provider's, and gets Art. 26 and 27."""
    credit = {"annex_iii_uses": ["creditworthiness"], "profiling": True}
    deployer = triage(credit | {"role": "deployer"})
    art43 = next(r for r in deployer.triggered if "Art. 43(2)" in r.cites)
    assert art43.duty_of == (Duty.provider,) and art43.addressed_to(deployer.duties) == "duty of the provider"
    assert {"Art. 26, Art. 86", "Art. 27(1)"} <= set(deployer.articles)
    classification = next(r for r in deployer.triggered if r.cites == "Art. 6(2), Annex III point 5(b)")
    assert "43" not in classification.explanation
    provider = triage(credit | {"role": "provider"})
    assert next(r for r in provider.triggered if "Art. 43(2)" in r.cites).addressed_to(provider.duties) == ""
    assert "Art. 49(1)" in next(r for r in provider.triggered if "Art. 43(2)" in r.cites).cites


def test_biometrics_get_art_43_1_and_the_others_art_43_2():
    """Annex III point 1 needs a notified body unless standards are applied in full; points 2-8 use Annex VI."""
    assert any("Art. 43(1)" in c for c in triage({"annex_iii_uses": ["emotion_recognition"], "profiling": True}).articles)
    assert not any("Art. 43(1)" in c for c in triage({"annex_iii_uses": ["recruitment"], "profiling": True}).articles)


def test_art_50_3_and_50_4_are_deployer_transparency_duties():
    """Issue 16, item 5: emotion recognition / biometric categorisation and deep fakes or public-interest text."""
    result = triage({"role": "deployer", "deployer_emotion_or_categorisation": True, "deep_fake_or_public_text": True})
    assert result.tier is RiskTier.transparency
    assert result.articles == ["Art. 50(3)", "Art. 50(4)"]
    assert "editorial" in result.triggered[1].explanation


def test_gpai_question_states_the_art_3_63_research_exclusion():
    """Art. 3(63) excludes models used for research, development or prototyping before placing on the market."""
    text = load_ruleset().questionnaire.question("gpai_model").text
    assert "research, development or prototyping" in text and "Art. 3(63)" in text


def test_every_result_carries_the_not_legal_advice_disclaimer():
    assert "NOT legal advice" in triage(None).to_markdown()


@pytest.mark.parametrize(
    "answers",
    [
        {"no_such_question": True},
        {"interacts_with_people": "yes"},
        {"annex_iii_uses": ["recruiting"]},
        {"scope_exclusion": "war"},
        {"scope_exclusion": "personal_use"},
        {"role": "user"},
    ],
    ids=["unknown-question", "string-for-bool", "unknown-option", "unknown-exclusion", "old-personal-use", "unknown-role"],
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
