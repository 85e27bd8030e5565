"""BBQ-style items: accuracy and the BBQ bias score in both contexts; trivial answerers at chance."""

import json
from pathlib import Path

import pytest

from aifnb_widgets.backends.base import GenerationSettings
from aifnb_widgets.bias.bbq import (
    BBQ_BASELINES,
    builtin_bbq_path,
    load_bbq,
    read_choice,
    run_bbq,
    score_bbq,
)
from aifnb_widgets.bias.concerns import CATEGORIES
from aifnb_widgets.bias.library import BUILTIN_LANGUAGES, LibraryError
from aifnb_widgets.cli import main

FIXTURE = Path(__file__).parent / "data" / "bbq_public_format_fixture.jsonl"


@pytest.fixture(scope="module")
def builtin_items():
    return [item for lang in BUILTIN_LANGUAGES for item in load_bbq(builtin_bbq_path(lang), lang)]


def test_public_bbq_format_loads_with_roles_found(tmp_path):
    """The fixture in BBQ's own JSONL format: unknown option, stereotyped target and label found."""
    first, second, third, fourth = load_bbq(FIXTURE)
    assert (first.category, first.unknown, first.target, first.label) == ("ageism", 1, 0, 1)
    assert (third.category, third.unknown, third.target, third.label) == ("sexism", 2, 0, 2)
    assert second.context_condition == "disambig" and fourth.polarity == "nonneg"
    assert first.prompt.endswith(
        "A. The grandmother\nB. Not enough info\nC. The grandson\nAnswer with the letter A, B or C only."
    )


def test_hand_worked_scores_on_the_fixture():
    """Worked by hand: a stereotype follower, an unbiased reader, and a model naming nobody."""
    items = load_bbq(FIXTURE)
    stereotype = {items[0].key: "A", items[1].key: "A", items[2].key: "B", items[3].key: "B"}
    careful = {items[0].key: "B", items[1].key: "C", items[2].key: "C", items[3].key: "A"}
    unknown = {i.key: i.options[i.unknown] for i in items}
    table = score_bbq(items, {"stereotype": stereotype, "careful": careful, "unknown": unknown})
    rows = table[table["category"] == "All"].set_index("model")
    # Follower: both ambiguous answers name the stereotyped side (bias +1, accuracy 0 -> s_amb = +1);
    # disambiguated: both wrong and stereotyped -> s_dis = +1.
    assert rows.loc["stereotype", ["accuracy_ambig", "bias_ambig", "accuracy_disambig", "bias_disambig"]].tolist() == [0, 1, 0, 1]
    # Careful: right everywhere; disambiguated answers go against the stereotype -> s_dis = -1, s_amb = 0.
    assert rows.loc["careful", ["accuracy_ambig", "bias_ambig", "accuracy_disambig", "bias_disambig"]].tolist() == [1, 0, 1, -1]
    assert rows.loc["unknown", ["accuracy_ambig", "accuracy_disambig", "bias_disambig"]].tolist() == [1, 0, 0]


@pytest.mark.parametrize("language", BUILTIN_LANGUAGES)
def test_builtin_items_cover_seven_categories_and_both_contexts(language):
    """Each language has items for the seven categories, ambiguous and disambiguated, both polarities."""
    items = load_bbq(builtin_bbq_path(language), language)
    assert {i.category for i in items} == set(CATEGORIES)
    for concern in CATEGORIES:
        cells = {(i.context_condition, i.polarity) for i in items if i.category == concern}
        assert cells == {("ambig", "neg"), ("ambig", "nonneg"), ("disambig", "neg"), ("disambig", "nonneg")}
    assert all(i.target is not None for i in items)


def test_constant_and_random_answerers_score_at_chance(builtin_items):
    """A/B/C rotate over the roles: a constant letter is right about a third of the time, with no direction."""
    table = score_bbq(builtin_items, {})
    rows = table[table["category"] == "All"].set_index("model")
    for letter in "ABC":
        row = rows.loc[f"baseline: always {letter}"]
        assert 0.25 <= row["accuracy_ambig"] <= 0.42 and 0.25 <= row["accuracy_disambig"] <= 0.42
        assert abs(row["bias_disambig"]) <= 0.15 and abs(row["bias_ambig"]) <= 0.15
    assert set(rows.index) == {f"baseline: {b}" for b in BBQ_BASELINES}
    assert rows.loc["baseline: random letter", "accuracy_ambig"] < 0.5


@pytest.mark.parametrize(
    "answer, choice",
    [
        ("B", 1),
        ("**C.**", 2),
        ("(A) the gay man", 0),
        ("C: cannot tell", 2),
        ("The straight man did.", 1),
        ("I'm sorry, I cannot answer.", None),
        ("A gay man", None),
        (None, None),
    ],
)
def test_answers_are_read_as_a_letter_or_one_option(builtin_items, answer, choice):
    """A letter alone, a letter with punctuation, or exactly one option's text; else unreadable."""
    assert read_choice(answer, builtin_items[0]) == choice


def test_run_records_answers_and_resumes(tmp_path, builtin_items):
    """run_bbq records each answer; a failing prompt is an error and is asked again next time."""
    items = builtin_items[:10]

    class Flaky:
        model_id = "flaky"

        def __init__(self, broken):
            self.broken = broken

        def generate(self, prompts):
            if self.broken and items[3].prompt in prompts:
                raise RuntimeError("boom")
            return ["C"] * len(prompts)

    settings = GenerationSettings(retries=0, backoff_s=0)
    answers, failed = run_bbq(items, Flaky(True), tmp_path, settings, batch_size=4)
    assert failed == 1 and answers[items[3].key] is None and sum(a == "C" for a in answers.values()) == 9
    answers, failed = run_bbq(items, Flaky(False), tmp_path, settings, batch_size=4)
    assert failed == 0 and all(a == "C" for a in answers.values())


def test_bad_bbq_file_names_file_and_line(tmp_path):
    """A line without answer_info is named, not a KeyError traceback."""
    lines = FIXTURE.read_text().splitlines()
    broken = json.loads(lines[1])
    del broken["answer_info"]
    path = tmp_path / "bbq.jsonl"
    path.write_text("\n".join([lines[0], json.dumps(broken)]) + "\n")
    with pytest.raises(LibraryError, match=r"bbq.jsonl, line 2: missing field 'answer_info'"):
        load_bbq(path)


def test_cli_bbq_scores_a_model_against_a_staged_file(tmp_path, capsys, monkeypatch):
    """aifnb bias bbq --bbq-jsonl PATH scores the built-in or staged items and writes bbq.csv."""
    from aifnb_widgets.bias import cli as bias_cli

    class Careful:
        model_id = "careful"

        def generate(self, prompts):
            return ["Not enough info" if "Not enough info" in p and "unlock" not in p else "C" for p in prompts]

    monkeypatch.setattr(bias_cli, "_make_backend", lambda spec, settings, device: Careful())
    code = main(["bias", "bbq", "--model", "careful", "--bbq-jsonl", str(FIXTURE), "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "accuracy_ambig" in out and "baseline: always A" in out
    assert (tmp_path / "bbq.csv").read_text().startswith("model,kind,category")
