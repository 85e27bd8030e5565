import time

import pytest
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

from aifnb_widgets.backends.hf import HFBackend
from aifnb_widgets.bias.records import read_run_records
from aifnb_widgets.bias.results import assess
from aifnb_widgets.bias.runner import prepare_run_dir, run_model, settings_for
from aifnb_widgets.bias.scenario import default_scenario
from aifnb_widgets.models.tiny import build_tiny_causal_lm


def test_checkpoints_load_through_from_pretrained(tiny_gpt2_dir, tiny_t5_dir):
    gpt2 = AutoModelForCausalLM.from_pretrained(tiny_gpt2_dir)
    t5 = AutoModelForSeq2SeqLM.from_pretrained(tiny_t5_dir)
    assert gpt2.config.model_type == "gpt2" and t5.config.model_type == "t5"
    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2_dir)
    text = "Nein, je ne pense pas — 85 ans."
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text  # byte-level: nothing is unknown


def test_builder_is_fast_and_deterministic(tmp_path):
    start = time.perf_counter()
    build_tiny_causal_lm(tmp_path / "a", seed=4)
    assert time.perf_counter() - start < 30  # a few seconds on an idle CPU
    build_tiny_causal_lm(tmp_path / "b", seed=4)
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()


def test_gpt2_small_shape_is_a_parameter(tmp_path):
    from transformers import GPT2Config

    build_tiny_causal_lm(tmp_path / "wide", n_layer=1, n_embd=32, n_head=2, vocab_size=50257)
    assert GPT2Config.from_pretrained(tmp_path / "wide").vocab_size == 50257


def test_always_no_model_scores_exactly_like_the_always_no_baseline(tmp_path, always_no_dir, small_scenario):
    """English prompts only: the baseline answers French prompts "Non.", the model "No."."""
    scenario = default_scenario(languages=["en"], n_templates=3, seed=small_scenario.seed)
    backend = HFBackend(str(always_no_dir), settings_for(scenario))
    plan = prepare_run_dir(tmp_path, scenario)
    run_model(plan, backend, tmp_path, settings_for(scenario), batch_size=32)
    records = read_run_records(tmp_path)
    assert {r["answer"] for r in records} == {"No."}
    assessment = assess(plan, records, scenario.scoring, n_boot=100)
    for spec in scenario.scoring:
        table = assessment.leaderboard(spec)
        model_row, baseline = table.loc[str(always_no_dir)], table.loc["baseline: always No"]
        assert model_row.to_dict() == pytest.approx(baseline.to_dict(), nan_ok=True)
