"""Compare pre-trained candidate models on a small task: size, licence, quality, latency and memory.

Quality is measured in bits per byte of held-out domain text, which, unlike perplexity, does not depend on
the tokenizer, so candidates with different vocabularies stay comparable. Every byte of the text is scored:
a causal model predicts the first token from its beginning-of-text token, and an encoder-decoder decodes the
whole text from an empty input, so both give the same quantity, -log2 P(text) / bytes.

Limit, stated rather than hidden: an encoder-decoder such as T5 was pre-trained to fill in masked spans given a
context, not to generate text from nothing, so its unconditional score is pessimistic; compare it with causal
models as a lower bound on its quality, and prefer a task-specific comparison (e.g. a summarisation set) when
choosing between the two families.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import yaml
from tqdm.auto import tqdm

from aifnb_widgets.sandboxes.hf_models import load_model

LOWER_IS_BETTER = {"bits_per_byte": "quality", "ms_per_token": "latency", "weights_mb": "memory", "parameters_m": "size"}


def read_licence(path: str | Path) -> str:
    """The ``license`` of the model card's YAML front matter (the Hugging Face convention), else a LICENSE file's first line."""
    folder = Path(path)
    readme = folder / "README.md"
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        if text.startswith("---"):
            meta = yaml.safe_load(text.split("---", 2)[1]) or {}
            if meta.get("license"):
                return str(meta["license"]).lower()
    licence_file = folder / "LICENSE"
    if licence_file.is_file():
        first = next((ln.strip() for ln in licence_file.read_text(encoding="utf-8").splitlines() if ln.strip()), "")
        if first:
            return first
    return "unknown"


def _start_token(tokenizer) -> int:
    """The token the first text token is conditioned on: BOS, else EOS (GPT-2's document separator; T5's empty source)."""
    for token_id in (tokenizer.bos_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return int(token_id)
    raise ValueError("the tokenizer has neither a BOS nor an EOS token: the first token of a text cannot be scored")


@torch.no_grad()
def text_nll_nats(model, tokenizer, text: str, device: torch.device) -> float:
    """-ln P(text) summed over every token of ``text`` (no special tokens scored, none skipped)."""
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"].to(device)
    if ids.shape[1] == 0:
        raise ValueError("empty text")
    if model.config.is_encoder_decoder:
        # An empty source (just the end-of-sequence token): the decoder models the whole text.
        source = torch.tensor([[_start_token(tokenizer)]], device=device)
        logits = model(input_ids=source, labels=ids).logits.float()
        targets = ids
    else:
        start = torch.tensor([[_start_token(tokenizer)]], device=device)
        full = torch.cat([start, ids], dim=1)
        logits = model(input_ids=full).logits[:, :-1].float()
        targets = ids
    return float(torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum"))


def bits_per_byte(model, tokenizer, texts: Sequence[str], device: torch.device) -> float:
    """-log2 P(texts) over their UTF-8 bytes, every byte scored, for causal and encoder-decoder models alike."""
    texts = [t for t in texts if t]
    if not texts:
        raise ValueError("no text to score")
    nll_nats = sum(text_nll_nats(model, tokenizer, text, device) for text in texts)
    return nll_nats / math.log(2) / sum(len(t.encode("utf-8")) for t in texts)


@torch.no_grad()
def ms_per_token(model, tokenizer, prompt: str, device: torch.device, new_tokens: int = 16, runs: int = 3) -> float:
    """Median greedy-generation time per new token after one warm-up run (first calls pay one-off costs)."""
    inputs = tokenizer(prompt, return_tensors="pt").to(device)
    kwargs = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    model.generate(**inputs, **kwargs)
    timings = []
    for _ in range(runs):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        model.generate(**inputs, **kwargs)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        timings.append(time.perf_counter() - start)
    return 1000 * statistics.median(timings) / new_tokens


def disk_mb(path: str | Path) -> float | None:
    """Size of a local checkpoint folder; None for hub ids, whose files live in a shared cache."""
    folder = Path(path)
    if not folder.is_dir():
        return None
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def evaluate_candidates(
    candidates: Mapping[str, str | Path],
    eval_texts: Sequence[str],
    device: torch.device,
    prompt: str,
    new_tokens: int = 16,
    latency_runs: int = 3,
    dtype: str = "float32",
) -> pd.DataFrame:
    """One row per candidate, loaded through ``from_pretrained`` in ``dtype`` exactly as a user would load it."""
    rows = []
    for name, path in tqdm(candidates.items(), desc="candidates", unit="model"):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        model, tokenizer = load_model(path, device, dtype)
        weights = sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()])
        rows.append(
            {
                "candidate": name,
                "architecture": model.config.model_type,
                "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
                "licence": read_licence(path),
                "parameters_m": sum(p.numel() for p in model.parameters()) / 1e6,
                "disk_mb": disk_mb(path),
                "weights_mb": weights / 2**20,
                "bits_per_byte": bits_per_byte(model, tokenizer, eval_texts, device),
                "ms_per_token": ms_per_token(model, tokenizer, prompt, device, new_tokens, latency_runs),
                "peak_gpu_mb": torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None,
            }
        )
        del model
    return pd.DataFrame(rows).set_index("candidate")


#: How a candidate from the models and datasets catalogue is named: ``catalogue:tiny-gpt2``.
CATALOGUE_PREFIX = "catalogue:"


def catalogue_candidates(records: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The catalogue's models that ``from_pretrained`` loads (format transformers), by candidate
    name; ``records`` are :func:`aifnb_data.client.entries` of kind model (the user's own)."""
    return {f"{CATALOGUE_PREFIX}{r['name']}": r for r in records if r["kind"] == "model" and r["format"] == "transformers"}


def with_cards(results: pd.DataFrame, cards: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """``results`` with the licence and commercial use of each candidate that has a catalogue
    card (the card is the licence's record, not the files); None where there is no card."""
    out = results.copy()
    out["commercial_use"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    for name, record in cards.items():
        if name in out.index:
            out.loc[name, "licence"] = str(record["licence"]).lower()
            out.at[name, "commercial_use"] = bool(record["commercial_use"])
    return out


def rank_candidates(
    results: pd.DataFrame, weights: Mapping[str, float], allowed_licences: Sequence[str], commercial_only: bool = False
) -> pd.DataFrame:
    """Weighted score in [0, 1] over min-max-normalised criteria (1 = best), for licence-eligible candidates only.

    ``weights`` keys are criterion names: quality, latency, memory, size. Ineligible rows get score 0 and rank None.
    ``commercial_only`` also makes ineligible a candidate whose card says its licence forbids commercial use
    (``commercial_use`` False, see :func:`with_cards`; no card: the licence list decides).
    """
    unknown = set(weights) - set(LOWER_IS_BETTER.values())
    if unknown:
        raise ValueError(f"unknown criteria {sorted(unknown)}; use {sorted(LOWER_IS_BETTER.values())}")
    allowed = {lic.lower() for lic in allowed_licences}
    out = results.copy()
    out["eligible"] = out["licence"].str.lower().isin(allowed)
    if commercial_only and "commercial_use" in out:
        out["eligible"] &= ~out["commercial_use"].isin([False])
    eligible = out[out["eligible"]]
    score = pd.Series(0.0, index=out.index)
    total = sum(weights.values())
    for column, criterion in LOWER_IS_BETTER.items():
        w = weights.get(criterion, 0.0)
        if not w or eligible.empty:
            continue
        col = eligible[column]
        spread = col.max() - col.min()
        normalised = (col.max() - col) / spread if spread > 0 else pd.Series(1.0, index=col.index)
        score.loc[eligible.index] += w / total * normalised
    out["score"] = score.where(out["eligible"], 0.0).clip(0.0, 1.0)  # float sums can overshoot 1 by an ulp
    ranks = out.loc[out["eligible"], "score"].rank(ascending=False, method="min")
    out["rank"] = ranks.reindex(out.index).astype("Int64")
    return out.sort_values(["eligible", "score"], ascending=False)
