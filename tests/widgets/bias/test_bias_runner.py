"""Runs never lose or mis-score: failures are recorded per prompt, retried, and resumed."""

import threading
import time

import pytest

from aifnb_widgets.bias.records import read_run_records
from aifnb_widgets.bias.results import assess, assess_run_dirs
from aifnb_widgets.bias.runner import (
    coerce_answer,
    prepare_run_dir,
    run_model,
    settings_for,
)
from aifnb_widgets.bias.scenario import default_scenario


class PromptBomb:
    """Raises whenever one given prompt is in the batch, like a prompt that crashes a tokenizer."""

    model_id = "bomb"

    def __init__(self, bad_prompt: str | None):
        self.bad_prompt = bad_prompt
        self.calls = 0

    def generate(self, prompts):
        self.calls += 1
        if self.bad_prompt in prompts:
            raise ConnectionError("node lost")
        return ["No."] * len(prompts)


def test_every_call_is_recorded(tmp_path, small_scenario, scripted):
    """One record per call with model, revision, exact prompt, decoding parameters and seed."""
    plan = prepare_run_dir(tmp_path, small_scenario)
    backend = scripted("No.")
    summary = run_model(plan, backend, tmp_path, settings_for(small_scenario), batch_size=32)
    records = read_run_records(tmp_path)
    assert summary.calls_made == plan.n_calls == len(records) == len(backend.calls)
    assert summary.calls_failed == 0
    record = records[0]
    assert record["model"] == "scripted" and record["revision"] == "test" and record["answer"] == "No."
    assert record["prompt"] == plan.tests[record["test"]].prompts[record["prompt_index"]].text
    assert record["params"]["max_new_tokens"] == small_scenario.tokens and record["seed"] == small_scenario.seed


def test_one_failing_prompt_costs_one_error_record_not_the_run(tmp_path, small_scenario):
    """The batch is asked again prompt by prompt; only the bad prompt is an error, with its message."""
    plan = prepare_run_dir(tmp_path, small_scenario)
    bad = plan.tests[5].prompts[0].text
    sleeps = []
    settings = settings_for(small_scenario)
    summary = run_model(plan, PromptBomb(bad), tmp_path, settings, batch_size=10, sleep=sleeps.append)
    records = read_run_records(tmp_path)
    assert summary.calls_made == plan.n_calls and summary.calls_failed == 1 and not summary.cancelled
    failed = [r for r in records if r["answer"] is None]
    assert [r["prompt"] for r in failed] == [bad] and failed[0]["error"] == "ConnectionError: node lost"
    assert sleeps == [settings.backoff_s * 2**i for i in range(settings.retries)]  # retried with a doubling backoff

    partial = assess(plan, records, ["aifnb-2"], n_boot=20)
    assert partial.incomplete() == {"bomb": (1, len(plan.tests))}
    row = partial.tests[(partial.tests["model"] == "bomb") & (partial.tests["test"] == 5)].iloc[0]
    assert (row["status"], row["outcome"]) == ("Error", "no answer")

    healed = PromptBomb(None)
    resumed = run_model(plan, healed, tmp_path, settings, batch_size=10)
    assert resumed.calls_made == 1 and resumed.calls_skipped == plan.n_calls - 1 and healed.calls == 1
    assert assess(plan, read_run_records(tmp_path), ["aifnb-2"], n_boot=20).incomplete() == {}


@pytest.mark.parametrize(
    "answer, text, error",
    [
        ("No.", "No.", None),
        (None, None, "the model returned no answer (None)"),
        (42, "42", None),
        (15.5, "15.5", None),
        (True, "true", None),
        ({"probability": 15}, '{"probability": 15}', None),
        (b"Non.", "Non.", None),
        (object(), None, "the model returned a object, not text"),
    ],
    ids=["str", "None", "int", "float", "bool", "dict", "bytes", "object"],
)
def test_answers_of_any_type_are_coerced_or_recorded(answer, text, error):
    """Numbers and JSON values become text; None and other objects become a recorded error."""
    assert coerce_answer(answer) == (text, error)


def test_a_backend_returning_none_and_ints_never_breaks_the_report(tmp_path, small_scenario):
    """None answers are errors kept for resume; int answers are scored as text; report works."""

    class Odd:
        model_id = "odd"

        def generate(self, prompts):
            return [None if "JSON object" in p else 0 for p in prompts]

    plan = prepare_run_dir(tmp_path, small_scenario)
    summary = run_model(plan, Odd(), tmp_path, settings_for(small_scenario), batch_size=16, sleep=lambda s: None)
    records = read_run_records(tmp_path)
    assert summary.calls_failed == sum(r["answer"] is None for r in records) > 0
    assert {r["answer"] for r in records if r["answer"] is not None} == {"0"}
    assessment = assess_run_dirs([tmp_path], n_boot=20)
    assert "odd" in assessment.incomplete()
    assert assessment.summary[assessment.summary["model"] == "odd"]["score"].isna().all()  # "0" is not an answer


def test_wrong_number_of_answers_falls_back_to_one_prompt_per_call(tmp_path, small_scenario):
    """A backend that loses answers in a batch is asked again prompt by prompt."""
    plan = prepare_run_dir(tmp_path, small_scenario)

    class Short:
        model_id = "short"

        def generate(self, prompts):
            return ["No."]

    summary = run_model(plan, Short(), tmp_path, settings_for(small_scenario), batch_size=4)
    assert summary.calls_failed == 0 and all(r["answer"] == "No." for r in read_run_records(tmp_path))


def test_a_slow_backend_is_cancelled_between_batches(tmp_path, small_scenario):
    """Cancel from another thread while a slow model answers: the run stops, finished batches kept."""
    plan = prepare_run_dir(tmp_path, small_scenario)
    cancel = threading.Event()

    class Slow:
        model_id = "slow"

        def generate(self, prompts):
            time.sleep(0.05)
            return ["No."] * len(prompts)

    timer = threading.Timer(0.12, cancel.set)
    timer.start()
    summary = run_model(plan, Slow(), tmp_path, settings_for(small_scenario), batch_size=8, cancel=cancel)
    timer.join()
    records = read_run_records(tmp_path)
    assert summary.cancelled and 0 < summary.calls_made == len(records) < plan.n_calls
    assert all(r["answer"] == "No." for r in records)


def test_rescoring_from_records_needs_no_model(tmp_path, small_scenario, scripted):
    """report re-scores records under every spec; markdown defeats LangBiTe's rules only."""
    plan = prepare_run_dir(tmp_path, small_scenario)
    run_model(plan, scripted("**No**"), tmp_path, settings_for(small_scenario), batch_size=64)
    assessment = assess_run_dirs([tmp_path], n_boot=50)
    compat = assessment.leaderboard("langbite-compat-2", value="pass_rate")
    improved = assessment.leaderboard("aifnb-2", value="pass_rate")
    assert (compat.loc["scripted"] <= improved.loc["scripted"]).all()
    assert compat.loc["scripted"].sum() < improved.loc["scripted"].sum()
    assert improved.loc["scripted"].equals(improved.loc["baseline: always No"])


def test_a_different_plan_in_the_same_directory_is_refused(tmp_path, small_scenario):
    """Two plans never mix records in one run directory."""
    prepare_run_dir(tmp_path, small_scenario)
    other = default_scenario(languages=["de"], n_templates=1)
    with pytest.raises(ValueError, match="different plan"):
        prepare_run_dir(tmp_path, other)


def test_a_run_of_an_earlier_release_is_rescored(tmp_path, small_scenario, scripted):
    """Records whose keys carry an older plan digest (release 1's plan format) are still scored."""
    import json

    from aifnb_widgets.bias.records import RECORDS_DIR

    plan = prepare_run_dir(tmp_path, small_scenario)
    run_model(plan, scripted("No."), tmp_path, settings_for(small_scenario), batch_size=64)
    (path,) = (tmp_path / RECORDS_DIR).glob("*.jsonl")
    old = [dict(r, plan="0123456789abcdef", key=f"old-{i}") for i, r in enumerate(read_run_records(tmp_path))]
    path.write_text("".join(json.dumps(r) + "\n" for r in old))
    scenario = json.loads((tmp_path / "scenario.json").read_text())
    (tmp_path / "scenario.json").write_text(json.dumps(dict(scenario, scoring=["langbite-compat-1", "aifnb-1"])))
    assessment = assess_run_dirs([tmp_path], n_boot=20)
    assert assessment.specs == ["langbite-compat-2", "aifnb-2"] and assessment.incomplete() == {}
    assert (
        assessment.leaderboard("aifnb-2", "pass_rate")
        .loc["scripted"]
        .equals(assessment.leaderboard("aifnb-2", "pass_rate").loc["baseline: always No"])
    )
