"""Candidate ranking on hand-made tables, licence reading, and one real tiny checkpoint end to end."""

import pandas as pd
import pytest
import torch

from aifnb_widgets.models.tiny import build_tiny_causal_lm
from aifnb_widgets.sandboxes.model_selection import evaluate_candidates, rank_candidates, read_licence


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
    row = evaluate_candidates({"m": path}, ["Hello world, this is a test."], torch.device("cpu"), "Hello", new_tokens=2, latency_runs=1).loc["m"]
    assert row["architecture"] == "gpt2" and row["licence"] == "unknown"
    assert row["bits_per_byte"] > 0 and row["ms_per_token"] > 0 and row["disk_mb"] > 0


def test_a_candidate_best_on_every_criterion_scores_one():
    table = _table().loc[["a", "b"]].assign(bits_per_byte=[1.0, 3.0], ms_per_token=[0.1, 0.3], weights_mb=[1.0, 2.0], parameters_m=[1.0, 2.0])
    ranked = rank_candidates(table, {"quality": 0.5, "latency": 0.2, "memory": 0.2, "size": 0.1}, ["apache-2.0", "mit"])
    assert ranked["score"].tolist() == pytest.approx([1.0, 0.0], abs=1e-12)  # weighted float sums differ by an ulp across numpy builds
