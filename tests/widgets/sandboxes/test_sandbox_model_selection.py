"""Candidate ranking on hand-made tables, licence reading, and one real tiny checkpoint end to end."""

import math

import pandas as pd
import pytest
import torch

from aifnb_widgets.models.tiny import build_tiny_causal_lm
from aifnb_widgets.sandboxes.hf_models import load_model, resolve_dtype
from aifnb_widgets.sandboxes.model_selection import (
    bits_per_byte,
    evaluate_candidates,
    rank_candidates,
    read_licence,
    text_nll_nats,
)


def _table():
    return pd.DataFrame(
        {
            "licence": ["apache-2.0", "mit", "cc-by-nc-4.0"],
            "bits_per_byte": [2.0, 4.0, 1.0],
            "ms_per_token": [10.0, 5.0, 1.0],
            "weights_mb": [100.0, 50.0, 1.0],
            "parameters_m": [20.0, 10.0, 1.0],
        },
        index=pd.Index(["a", "b", "nc"], name="candidate"),
    )


def test_rank_by_hand():
    ranked = rank_candidates(_table(), {"quality": 3, "latency": 1}, ["apache-2.0", "MIT"])
    # a: quality 1, latency 0 -> 0.75; b: quality 0, latency 1 -> 0.25
    assert ranked.loc["a", "score"] == pytest.approx(0.75) and ranked.loc["b", "score"] == pytest.approx(0.25)
    assert list(ranked.index) == ["a", "b", "nc"]
    assert ranked.loc["a", "rank"] == 1 and pd.isna(ranked.loc["nc", "rank"]) and not ranked.loc["nc", "eligible"]


def test_rank_rejects_unknown_criteria():
    with pytest.raises(ValueError):
        rank_candidates(_table(), {"accuracy": 1}, ["mit"])


def test_read_licence(tmp_path):
    assert read_licence(tmp_path) == "unknown"
    (tmp_path / "LICENSE").write_text("\nBSD 3-Clause License\n...")
    assert read_licence(tmp_path) == "BSD 3-Clause License"
    (tmp_path / "README.md").write_text("---\nlicense: Apache-2.0\n---\n# card")
    assert read_licence(tmp_path) == "apache-2.0"


def test_evaluate_a_real_tiny_checkpoint(tmp_path):
    path = build_tiny_causal_lm(tmp_path / "m", n_layer=1, n_embd=32)
    row = evaluate_candidates(
        {"m": path}, ["Hello world, this is a test."], torch.device("cpu"), "Hello", new_tokens=2, latency_runs=1
    ).loc["m"]
    assert row["architecture"] == "gpt2" and row["licence"] == "unknown"
    assert row["bits_per_byte"] > 0 and row["ms_per_token"] > 0 and row["disk_mb"] > 0


def test_a_candidate_best_on_every_criterion_scores_one():
    table = (
        _table()
        .loc[["a", "b"]]
        .assign(bits_per_byte=[1.0, 3.0], ms_per_token=[0.1, 0.3], weights_mb=[1.0, 2.0], parameters_m=[1.0, 2.0])
    )
    ranked = rank_candidates(table, {"quality": 0.5, "latency": 0.2, "memory": 0.2, "size": 0.1}, ["apache-2.0", "mit"])
    assert ranked["score"].tolist() == pytest.approx(
        [1.0, 0.0], abs=1e-12
    )  # weighted float sums differ by an ulp across numpy builds


def test_bits_per_byte_scores_every_token_including_the_first(tmp_path):
    """Issue 16: the first token's bytes were counted but never scored; now -log2 P(text) covers all of them."""
    path = build_tiny_causal_lm(tmp_path / "m", n_layer=1, n_embd=32)
    model, tokenizer = load_model(path, torch.device("cpu"))
    text = "Hello world"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    full = torch.tensor([[start, *ids]])
    with torch.no_grad():
        logp = model(input_ids=full).logits[0, :-1].log_softmax(-1)
    by_hand = -sum(logp[i, tok].item() for i, tok in enumerate(ids))
    assert text_nll_nats(model, tokenizer, text, torch.device("cpu")) == pytest.approx(by_hand, rel=1e-5)
    assert bits_per_byte(model, tokenizer, [text], torch.device("cpu")) == pytest.approx(by_hand / math.log(2) / len(text))


def test_encoder_decoder_is_scored_on_the_whole_text(tmp_path):
    """A T5-style candidate scores every byte of the text too (from an empty input), not just its second half."""
    from aifnb_widgets.sandboxes.demo_candidates import build_demo_candidates

    paths = build_demo_candidates(tmp_path, ["invoice due soon"] * 8, steps=1, seed=0)
    t5 = next(p for name, p in paths.items() if "t5" in name)
    model, tokenizer = load_model(t5, torch.device("cpu"))
    text = "Your invoice is due"
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        out = model(input_ids=torch.tensor([[start]]), labels=ids)
    assert text_nll_nats(model, tokenizer, text, torch.device("cpu")) == pytest.approx(out.loss.item() * ids.shape[1], rel=1e-5)


@pytest.mark.parametrize(("dtype", "expected"), [("float32", torch.float32), ("bfloat16", torch.bfloat16)], ids=["fp32", "bf16"])
def test_models_load_in_the_requested_dtype(tmp_path, dtype, expected):
    """The dtype option reaches from_pretrained, so memory is measured as the model would be served."""
    path = build_tiny_causal_lm(tmp_path / "m", n_layer=1, n_embd=32)
    model, _ = load_model(path, torch.device("cpu"), dtype)
    assert next(model.parameters()).dtype is expected
    assert resolve_dtype("auto", torch.device("cpu")) is torch.float32
    with pytest.raises(ValueError):
        resolve_dtype("fp8", torch.device("cpu"))


def test_catalogue_cards_set_licence_and_commercial_use():
    """A catalogue candidate's licence comes from its card; with commercial_only a card saying
    non-commercial makes it ineligible, while a candidate without a card is judged by its licence."""
    from aifnb_widgets.sandboxes.model_selection import catalogue_candidates, with_cards

    records = [
        {"name": "open", "kind": "model", "format": "transformers", "licence": "MIT", "commercial_use": True},
        {"name": "nc", "kind": "model", "format": "transformers", "licence": "MIT", "commercial_use": False},
        {"name": "served", "kind": "model", "format": "openai", "licence": "MIT", "commercial_use": True},
    ]
    cards = catalogue_candidates(records)
    assert list(cards) == ["catalogue:open", "catalogue:nc"]
    table = pd.DataFrame(
        {
            "licence": ["unknown", "unknown", "apache-2.0"],
            "bits_per_byte": [1.0, 0.5, 2.0],
            "ms_per_token": [1.0, 1.0, 1.0],
            "weights_mb": [1.0, 1.0, 1.0],
            "parameters_m": [1.0, 1.0, 1.0],
        },
        index=["catalogue:open", "catalogue:nc", "local"],
    )
    carded = with_cards(table, cards)
    assert carded.loc["catalogue:nc", "licence"] == "mit" and carded.at["local", "commercial_use"] is None
    anyway = rank_candidates(carded, {"quality": 1}, ["mit", "apache-2.0"])
    assert anyway.loc["catalogue:nc", "rank"] == 1
    commercial = rank_candidates(carded, {"quality": 1}, ["mit", "apache-2.0"], commercial_only=True)
    assert not commercial.loc["catalogue:nc", "eligible"] and pd.isna(commercial.loc["catalogue:nc", "rank"])
    assert commercial.loc["catalogue:open", "rank"] == 1 and commercial.loc["local", "eligible"]
