"""The optional judge: re-reads failed or unreadable answers, recorded and reported apart."""

import json

import pytest

from aifnb_widgets.bias.judge import (
    judge_assessment,
    judge_prompt,
    judged_summary,
    read_judgement,
)
from aifnb_widgets.bias.records import read_run_records
from aifnb_widgets.bias.results import assess
from aifnb_widgets.bias.runner import prepare_run_dir, run_model, settings_for
from aifnb_widgets.bias.scenario import default_scenario
from aifnb_widgets.cli import main


class Judge:
    """Says True when a "Nah" answer is judged against expected "No" values, else False; counts its calls."""

    model_id = "judge/llm"

    def __init__(self):
        self.prompts = []

    def generate(self, prompts):
        self.prompts += prompts
        return ["True" if "\nAnswer: Nah" in p and 'expected answers: "No"' in p else "False" for p in prompts]


@pytest.fixture
def nope_run(tmp_path, scripted):
    """A model that answers "Nah, never." to yes/no questions: a no the word lists do not know."""
    scenario = default_scenario(languages=["en"], concerns=["ageism"], n_templates=100)
    plan = prepare_run_dir(tmp_path, scenario)
    run_model(
        plan,
        scripted(lambda p: "Nah, never." if "Yes" in p else '{"probability": 50}'),
        tmp_path,
        settings_for(scenario),
        batch_size=64,
    )
    return tmp_path, assess(plan, read_run_records(tmp_path), ["aifnb-2"], n_boot=20)


def test_judge_overturns_unreadable_answers_but_scores_stay_rule_based(nope_run):
    """ "Nah" is unreadable for the oracle; the judge reads it as a no for the 6 No-rewarding templates."""
    run_dir, assessment = nope_run
    judge = Judge()
    judged = judge_assessment(assessment, judge, run_dir)
    # 12 yes/no templates are unreadable; counterfactual and numeric templates are not re-judged.
    assert len(judged) == 12 and set(judged["outcome"]) == {"unreadable"}
    assert (judged["judged"] == "Passed").sum() == 6 and set(judged["judge"]) == {"judge/llm"}
    summary = judged_summary(assessment, judged).set_index("category")
    assert summary.loc["Ageism", "overturned"] == 6
    assert summary.loc["Ageism", "pass_rate_with_judge"] > summary.loc["Ageism", "pass_rate"]
    assert (
        assessment.summary.set_index(["model", "category"]).loc[("scripted", "Ageism"), "pass_rate"]
        == summary.loc["Ageism", "pass_rate"]
    )
    meta = json.loads((run_dir / "judge" / "judge.json").read_text())
    assert meta["judge"] == "judge/llm" and meta["spec"] == "aifnb-2"


def test_judgements_are_recorded_and_reused(nope_run):
    """A second pass asks the judge nothing new."""
    run_dir, assessment = nope_run
    first = Judge()
    judge_assessment(assessment, first, run_dir)
    again = Judge()
    judge_assessment(assessment, again, run_dir)
    assert first.prompts and again.prompts == []


def test_a_judge_that_does_not_say_true_or_false_leaves_tests_undecided(nope_run):
    """An off-format judge changes nothing: its tests are Undecided."""
    run_dir, assessment = nope_run

    class Chatty:
        model_id = "chatty"

        def generate(self, prompts):
            return ["Well, it depends."] * len(prompts)

    judged = judge_assessment(assessment, Chatty(), run_dir)
    assert set(judged["judged"]) == {"Undecided"}
    assert judged_summary(assessment, judged)["overturned"].sum() == 0


def test_prompt_is_our_own_wording_and_replies_are_read_strictly():
    """The judge prompt names the expected answers; only True/False (or yes/no) replies count."""
    prompt = judge_prompt("Q?", "Nope.", ["No", "I don't think"])
    assert '"No"; "I don\'t think"' in prompt and prompt.endswith("False otherwise.")
    assert [read_judgement(t) for t in ("True", "**False**", "yes.", "maybe", None)] == [True, False, True, None, None]


def test_cli_judge_states_the_judge(nope_run, capsys, monkeypatch):
    """aifnb bias judge RUN_DIR --judge MODEL prints which judge, and writes its tables apart."""
    from aifnb_widgets.bias import cli as bias_cli

    run_dir, _ = nope_run
    monkeypatch.setattr(bias_cli, "_make_backend", lambda spec, settings, device: Judge())
    assert main(["bias", "judge", str(run_dir), "--judge", "judge/llm"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("judge: judge/llm") and "pass_rate_with_judge" in out
    assert (run_dir / "judge" / "judged_summary.csv").is_file()
