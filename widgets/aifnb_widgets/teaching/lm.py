"""Language-model helpers for the transformers course: a generated corpus, loading a causal LM
(the platform's tiny local GPT-2 by default, any ``from_pretrained`` path or id on the cluster),
sampling maths (temperature, top-p) written out, and fine-tuning batches.
"""

from __future__ import annotations

import math
import random
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "TINY",
    "distinct_n",
    "lm_blocks",
    "load_causal_lm",
    "nucleus_size",
    "perplexity",
    "sampling_distribution",
    "tiny_corpus",
]

#: Model name that means "build the tiny local model" instead of calling from_pretrained.
TINY = "tiny"

_SUBJECTS = ["the scheduler", "the gpu node", "a learner", "the trainer", "the cluster", "a small model", "the notebook"]
_VERBS = ["runs", "queues", "trains", "checks", "saves", "loads", "reads"]
_OBJECTS = ["the job", "a checkpoint", "the dataset", "the results", "a batch", "the tokenizer", "the weights"]
_PLACES = ["on scratch", "in the project folder", "on the gpu partition", "every hour", "before lunch", "in a notebook"]


def tiny_corpus(n: int = 300, seed: int = 0) -> list[str]:
    """``n`` short, regular sentences about working on a cluster (a learnable toy language)."""
    rng = random.Random(seed)
    return [f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_PLACES)} ." for _ in range(n)]


def load_causal_lm(
    model: str = TINY, device: str = "cpu", *, tiny_dir: str | Path | None = None, seed: int = 0
) -> tuple[Any, Any]:
    """(model, tokenizer) on ``device``, in eval mode, with eager attention (so
    ``output_attentions=True`` returns the weights).

    ``model="tiny"`` first writes the platform's tiny GPT-2 checkpoint
    (:func:`aifnb_widgets.models.tiny.build_tiny_causal_lm`: random weights, byte-level BPE
    tokenizer trained locally) to ``tiny_dir`` (default: a new temporary folder); anything else
    is a local path or hub id. Either way the model is loaded with ``from_pretrained``.
    """
    from aifnb_widgets.torch_runtime import load_pretrained

    if model == TINY:
        from aifnb_widgets.models.tiny import build_tiny_causal_lm

        target = Path(tiny_dir) if tiny_dir is not None else Path(tempfile.mkdtemp(prefix="tiny-gpt2-"))
        model = str(build_tiny_causal_lm(target, seed=seed))
    lm, tokenizer, _ = load_pretrained(model, device, attn_implementation="eager")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if getattr(lm, "loss_type", None) is None:  # e.g. GPT2LMHeadModel: say which loss, silence the notice
        lm.loss_type = "ForCausalLM"
    return lm.to(device).eval(), tokenizer


def sampling_distribution(logits: torch.Tensor, temperature: float = 1.0, top_p: float = 1.0) -> torch.Tensor:
    """The next-token probabilities a sampler draws from: softmax(logits / temperature), then
    keep the smallest set of most likely tokens whose mass reaches ``top_p`` and renormalise.
    ``temperature=0`` means greedy (all mass on the arg-max)."""
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    if not 0 < top_p <= 1:
        raise ValueError("top_p must be in (0, 1]")
    logits = logits.detach().float()
    if temperature == 0:
        probs = torch.zeros_like(logits)
        probs[..., logits.argmax(-1)] = 1.0
        return probs
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1:
        sorted_p, order = probs.sort(descending=True)
        cumulative = sorted_p.cumsum(-1)
        keep_sorted = (cumulative - sorted_p) < top_p - 1e-6  # keep a token if the mass before it is < top_p
        keep = torch.zeros_like(keep_sorted)
        keep[order] = keep_sorted
        probs = torch.where(keep, probs, torch.zeros_like(probs))
        probs = probs / probs.sum()
    return probs


def nucleus_size(probs: torch.Tensor, top_p: float) -> int:
    """How many tokens top-p sampling keeps for this distribution."""
    return int((sampling_distribution(torch.log(probs.clamp_min(1e-30)), 1.0, top_p) > 0).sum())


def lm_blocks(
    tokenizer: Any, texts: Sequence[str], block_size: int = 32, batch_size: int = 8, seed: int = 0
) -> Iterator[torch.Tensor]:
    """Endless shuffled batches (batch_size, block_size) of token ids: the texts joined with
    <eos> and cut into blocks, the usual causal-LM fine-tuning input (labels = inputs)."""
    ids: list[int] = []
    for t in texts:
        ids += tokenizer(t)["input_ids"] + [tokenizer.eos_token_id]
    n_blocks = len(ids) // block_size
    if n_blocks < 1:
        raise ValueError(f"texts give {len(ids)} tokens, fewer than one block of {block_size}")
    blocks = torch.tensor(ids[: n_blocks * block_size]).view(n_blocks, block_size)
    gen = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(n_blocks, generator=gen)
        for start in range(0, n_blocks, batch_size):
            yield blocks[order[start : start + batch_size]]


def distinct_n(texts: Sequence[str], n: int = 2) -> float:
    """Share of distinct word n-grams among all n-grams of ``texts`` (diversity, 0..1)."""
    grams = []
    for t in texts:
        words = t.split()
        grams += [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def perplexity(loss: float) -> float:
    """exp(cross-entropy): the number of equally likely tokens the model hesitates between."""
    return math.exp(loss)
