"""Tiny language-model helpers: tokenizer, tiny GPT-2, sampling maths, fine-tuning batches."""

import itertools

import pytest
import torch

from aifnb_widgets.teaching.lm import (
    TINY,
    distinct_n,
    lm_blocks,
    load_causal_lm,
    nucleus_size,
    perplexity,
    sampling_distribution,
    tiny_corpus,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_causal_lm(TINY, "cpu", tiny_dir=tmp_path_factory.mktemp("tiny"), seed=1)


def test_corpus_is_reproducible():
    assert tiny_corpus(10, seed=4) == tiny_corpus(10, seed=4)
    assert all(s.endswith(" .") for s in tiny_corpus(10))


def test_tiny_model_is_a_saved_checkpoint_and_round_trips_text(tiny, tmp_path):
    model, tok = tiny
    text = "the scheduler queues the job on scratch ."
    assert tok.decode(tok(text)["input_ids"], skip_special_tokens=True) == text
    assert tok.pad_token is not None and tok.eos_token is not None
    assert not model.training, "loaded in eval mode"
    again, _ = load_causal_lm(TINY, "cpu", tiny_dir=tmp_path, seed=1)
    assert (tmp_path / "config.json").is_file()
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


def test_tiny_model_forward_and_attention(tiny):
    model, tok = tiny
    ids = tok("the cluster runs the job", return_tensors="pt")
    out = model(**ids, output_attentions=True)
    assert out.logits.shape[-1] == len(tok)
    att = out.attentions[0][0]
    assert torch.allclose(att.sum(-1), torch.ones(att.shape[:-1]), atol=1e-5)
    assert torch.all(att.triu(1) == 0), "causal attention looks only backwards"
    assert sum(p.numel() for p in model.parameters()) < 1_000_000


def test_sampling_distribution():
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    p1 = sampling_distribution(logits)
    assert torch.allclose(p1, torch.softmax(logits, -1))
    cold, hot = sampling_distribution(logits, 0.5), sampling_distribution(logits, 2.0)
    assert cold[0] > p1[0] > hot[0]
    greedy = sampling_distribution(logits, 0.0)
    assert greedy.tolist() == [1.0, 0.0, 0.0, 0.0]
    nucleus = sampling_distribution(logits, 1.0, top_p=0.8)
    assert nucleus[-1] == 0 and torch.isclose(nucleus.sum(), torch.tensor(1.0))
    with pytest.raises(ValueError):
        sampling_distribution(logits, -1)
    with pytest.raises(ValueError):
        sampling_distribution(logits, 1, top_p=0)


def test_nucleus_size():
    probs = torch.tensor([0.1, 0.5, 0.3, 0.1])
    assert nucleus_size(probs, 0.5) == 1
    assert nucleus_size(probs, 0.8) == 2
    assert nucleus_size(probs, 0.81) == 3
    assert nucleus_size(probs, 1.0) == 4


def test_lm_blocks_and_metrics(tiny):
    _, tok = tiny
    batches = list(itertools.islice(lm_blocks(tok, tiny_corpus(50), block_size=16, batch_size=4), 3))
    assert batches[0].shape == (4, 16) and batches[0].dtype == torch.long
    with pytest.raises(ValueError):
        next(lm_blocks(tok, ["a"], block_size=1000))
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n([], 2) == 0.0
    assert perplexity(0.0) == 1.0
