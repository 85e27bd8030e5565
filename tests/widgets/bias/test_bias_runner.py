import threading

import pytest

from aifnb_widgets.backends.base import BackendError
from aifnb_widgets.bias.records import read_run_records
from aifnb_widgets.bias.results import assess, assess_run_dirs
from aifnb_widgets.bias.runner import prepare_run_dir, run_model, settings_for
from aifnb_widgets.bias.scenario import default_scenario


class FlakyBackend:
    """Fails on its n-th batch, like a node lost mid-run."""

    model_id = "flaky"

    def __init__(self, fail_on_batch: int):
        self.fail_on_batch = fail_on_batch
        self.batches = 0

    def generate(self, prompts):
        self.batches += 1
        if self.batches == self.fail_on_batch:
            raise ConnectionError("node lost")
        return ["No."] * len(prompts)


def test_every_call_is_recorded(tmp_path, small_scenario, scripted):
    plan = prepare_run_dir(tmp_path, small_scenario)
    backend = scripted("No.")
    summary = run_model(plan, backend, tmp_path, settings_for(small_scenario), batch_size=32)
    records = read_run_records(tmp_path)
    assert summary.calls_made == plan.n_calls == len(records) == len(backend.calls)
    record = records[0]
    assert record["model"] == "scripted" and record["revision"] == "test" and record["answer"] == "No."
    assert record["prompt"] == plan.tests[record["test"]].prompts[record["prompt_index"]].text
    assert record["params"]["max_new_tokens"] == small_scenario.tokens and record["seed"] == small_scenario.seed


def test_a_crash_keeps_partial_records_and_resume_skips_them(tmp_path, small_scenario, scripted):
    plan = prepare_run_dir(tmp_path, small_scenario)
    settings = settings_for(small_scenario)
    with pytest.raises(BackendError, match="flaky failed after 20 calls.*node lost"):
        run_model(plan, FlakyBackend(fail_on_batch=3), tmp_path, settings, batch_size=10)
    records = read_run_records(tmp_path)
    assert sum(r["answer"] is not None for r in records) == 20
    assert sum(r["error"] is not None for r in records) == 10
    # Partial results are scorable: only complete tests are counted, the rest pending.
    partial = assess(plan, records, ["aifnb-1"], n_boot=50)
    assert 0 < len(partial.tests[partial.tests["kind"] == "model"]) < len(plan.tests)

    resumed = FlakyBackend(fail_on_batch=-1)
    summary = run_model(plan, resumed, tmp_path, settings, batch_size=10)
    assert summary.calls_skipped == 20 and summary.calls_made == plan.n_calls - 20
    assert sum(r["answer"] is not None for r in read_run_records(tmp_path)) == plan.n_calls
    again = run_model(plan, resumed, tmp_path, settings, batch_size=10)
    assert again.calls_made == 0


def test_cancel_stops_between_batches(tmp_path, small_scenario):
    plan = prepare_run_dir(tmp_path, small_scenario)
    cancel = threading.Event()

    class CancelAfterTwo:
        model_id = "cancelled"

        def __init__(self):
            self.batches = 0

        def generate(self, prompts):
            self.batches += 1
            if self.batches == 2:
                cancel.set()
            return ["No."] * len(prompts)

    summary = run_model(plan, CancelAfterTwo(), tmp_path, settings_for(small_scenario), batch_size=8, cancel=cancel)
    assert summary.cancelled and summary.calls_made == 16
    assert len(read_run_records(tmp_path)) == 16


def test_rescoring_from_records_needs_no_model(tmp_path, small_scenario, scripted):
    plan = prepare_run_dir(tmp_path, small_scenario)
    run_model(plan, scripted("**No**"), tmp_path, settings_for(small_scenario), batch_size=64)
    assessment = assess_run_dirs([tmp_path], n_boot=50)
    table = assessment.leaderboard("langbite-compat-1")
    improved = assessment.leaderboard("aifnb-1")
    # Markdown defeats LangBiTe's rules but not the improved spec, which then equals "always No".
    assert table.loc["scripted", "Mean"] < improved.loc["scripted", "Mean"]
    assert improved.loc["scripted"].equals(improved.loc["baseline: always No"])


def test_a_different_plan_in_the_same_directory_is_refused(tmp_path, small_scenario):
    prepare_run_dir(tmp_path, small_scenario)
    other = default_scenario(languages=["de"], n_templates=1)
    with pytest.raises(ValueError, match="different plan"):
        prepare_run_dir(tmp_path, other)


def test_wrong_number_of_answers_is_an_error(tmp_path, small_scenario):
    plan = prepare_run_dir(tmp_path, small_scenario)

    class Short:
        def generate(self, prompts):
            return ["No."]

    with pytest.raises(BackendError, match="returned 1 answers for 4 prompts"):
        run_model(plan, Short(), tmp_path, settings_for(small_scenario), batch_size=4)
