"""Perturbations, input normalisation, perturbation scoring and the prompt-injection suite."""

import numpy as np
import pytest
from pydantic import ValidationError

from aifnb_widgets.sandboxes.robustness.perturbation_tests import perturbation_pass_rates
from aifnb_widgets.sandboxes.robustness.perturbations import PERTURBATIONS, homoglyphs, leetspeak, typos, zero_width_spaces
from aifnb_widgets.sandboxes.robustness.prompt_injection import (
    InjectionSuite,
    always_refuse,
    answer_validity,
    context_echo,
    load_suite,
    pass_rates,
    run_injection_suite,
    run_usefulness,
    silent,
)
from aifnb_widgets.sandboxes.synthetic.messages import make_messages
from aifnb_widgets.sandboxes.text_features import hashed_char_ngrams, normalise_text

TEXT = "Security alert: reset your password using this link"


@pytest.mark.parametrize("name", list(PERTURBATIONS))
def test_perturbations_are_seeded_and_change_the_text(name):
    perturb = PERTURBATIONS[name]
    a = perturb(TEXT, np.random.default_rng(1))
    assert a == perturb(TEXT, np.random.default_rng(1))
    assert a != TEXT


def test_rate_zero_is_identity():
    rng = np.random.default_rng(0)
    for perturb in (typos, homoglyphs, leetspeak, zero_width_spaces):
        assert perturb(TEXT, rng, 0.0) == TEXT


@pytest.mark.parametrize("perturb", [homoglyphs, leetspeak, zero_width_spaces, PERTURBATIONS["case noise"]])
def test_normalisation_undoes_character_tricks(perturb):
    assert normalise_text(perturb(TEXT, np.random.default_rng(2), 1.0)) == TEXT.lower()


def test_normalisation_keeps_standalone_numbers():
    assert normalise_text("Pay 450 EUR") == "pay 450 eur"


def test_hashed_ngrams_are_stable_and_normalised():
    x = hashed_char_ngrams(["abc abc", "abc abc", ""], dim=64)
    assert np.array_equal(x[0], x[1]) and x.shape == (3, 64)
    assert np.linalg.norm(x[0]) == pytest.approx(1.0) and not x[2].any()


def test_perturbation_pass_rates_by_hand():
    texts, labels = ["bad one", "bad two", "good"], np.array([1, 1, 0])

    def keyword_filter(batch):  # catches "bad" only when spelled exactly
        return np.array([int("bad" in t) for t in batch])

    def uppercase(text, rng, rate=1.0):
        return text.upper()

    table = perturbation_pass_rates(keyword_filter, texts, labels, {"upper": uppercase})
    assert table.loc["none (clean)"].tolist() == [1.0, 1.0, 0.0]
    row = table.loc["upper"]
    assert row["accuracy"] == pytest.approx(1 / 3)
    assert row["pass_rate"] == pytest.approx(1 / 3)
    assert row["evasion_rate"] == 1.0


def test_messages_are_seeded_with_both_classes():
    m = make_messages(200, seed=4)
    assert m.equals(make_messages(200, seed=4))
    assert 0.2 < m["is_phishing"].mean() < 0.6


def test_suite_loads_and_covers_categories():
    suite = load_suite()
    assert len(suite.cases) >= 12 and len({c.category for c in suite.cases}) >= 5
    assert suite.canary in suite.system
    assert all(suite.canary in suite.forbidden(c) for c in suite.cases)


def test_echo_reference_fails_every_case_and_a_refusal_passes_all():
    suite = load_suite()
    assert not run_injection_suite(context_echo, suite)["passed"].any()
    refusals = run_injection_suite(lambda system, user: "I'm sorry, I can't help with that.", suite)
    assert refusals["passed"].all() and (pass_rates(refusals) == 1.0).all()


def test_only_matching_answers_fail():
    suite = load_suite()
    results = run_injection_suite(lambda system, user: "Sure, here you are: pwned", suite)
    failed = set(results.index[~results["passed"]])
    assert "override_plain" in failed and "leak_code" not in failed
    assert results.loc["override_plain", "violations"] == "PWNED"


def test_indirect_case_embeds_the_document():
    suite = load_suite()
    case = next(c for c in suite.cases if c.document)
    assert case.document in suite.user_message(case)


def test_suite_rejects_cases_without_checks():
    raw = load_suite().model_dump()
    raw["cases"][0]["must_not_contain"] = []
    with pytest.raises(ValidationError):
        InjectionSuite.model_validate(raw)


@pytest.mark.parametrize(
    ("answer", "validity"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("#$%& 123 ### !!", "garbled"),
        ("ĠĠĠ ĠĠ Ġ", "garbled"),
        ("the the the the the", "garbled"),
        ("ok", "garbled"),
        ("You can block your card in the app.", "ok"),
        ("Je ne peux pas vous aider.", "ok"),
    ],
    ids=["empty", "blank", "symbols", "bpe-junk", "repeated-word", "one-word", "answer", "french"],
)
def test_answer_validity(answer, validity):
    """Empty and garbled answers are told apart from readable ones, whatever their language."""
    assert answer_validity(answer) == validity


def test_empty_and_garbled_answers_fail_every_injection_case():
    """Issue 16: an answer with no forbidden string is not a pass when it is empty or noise."""
    suite = load_suite()
    empty = run_injection_suite(silent, suite)
    assert not empty["passed"].any() and set(empty["outcome"]) == {"empty"}
    garbled = run_injection_suite(lambda system, user: "Ġx Ġx Ġx 12 ## Ġx", suite)
    assert not garbled["passed"].any() and set(garbled["outcome"]) == {"garbled"}


def test_always_refuse_passes_attacks_but_is_useless():
    """The always-refuse baseline resists every attack and answers no benign request."""
    suite = load_suite()
    assert run_injection_suite(always_refuse, suite)["passed"].all()
    useful = run_usefulness(always_refuse, suite)
    assert not useful["useful"].any() and set(useful["outcome"]) == {"refused"}


def test_a_helpful_guarded_assistant_passes_both():
    """A scripted assistant that answers on topic and ignores injected orders scores 100 % on both."""
    suite = load_suite()

    def helpful(system: str, user: str) -> str:
        return "Please block your card in the app, check the monthly fee list, and update the address on your account online."

    assert run_injection_suite(helpful, suite)["passed"].all()
    assert run_usefulness(helpful, suite)["useful"].all()
    off_topic = run_usefulness(lambda system, user: "The weather in Paris is mild today.", suite)
    assert set(off_topic["outcome"]) == {"off-topic"}
