"""Compare pre-trained candidate models on a small task: size, licence, quality, latency and memory.

Quality is measured in bits per byte of held-out domain text, which, unlike perplexity, does not depend on
the tokenizer, so candidates with different vocabularies (or architectures) stay comparable.
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path
from typing import Mapping, Sequence

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


@torch.no_grad()
def bits_per_byte(model, tokenizer, texts: Sequence[str], device: torch.device) -> float:
    """Total negative log-likelihood of the scored text, in bits, over its UTF-8 bytes.

    Causal models score each whole text; encoder-decoders read the first half of the words and score the second.
    """
    nll_nats, n_bytes = 0.0, 0
    for text in texts:
        if model.config.is_encoder_decoder:
            words = text.split()
            source, target = " ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])
            enc = tokenizer(source, return_tensors="pt").to(device)
            labels = tokenizer(target, return_tensors="pt")["input_ids"].to(device)
            loss = model(**enc, labels=labels).loss
            nll_nats += loss.item() * labels.shape[1]
            n_bytes += len(target.encode("utf-8"))
        else:
            ids = tokenizer(text, return_tensors="pt")["input_ids"].to(device)
            if ids.shape[1] < 2:
                continue
            loss = model(input_ids=ids, labels=ids).loss
            nll_nats += loss.item() * (ids.shape[1] - 1)
            n_bytes += len(text.encode("utf-8"))
    if n_bytes == 0:
        raise ValueError("no text long enough to score")
    return nll_nats / math.log(2) / n_bytes


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
) -> pd.DataFrame:
    """One row per candidate, loaded through ``from_pretrained`` exactly as a user would load it."""
    rows = []
    for name, path in tqdm(candidates.items(), desc="candidates", unit="model"):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        model, tokenizer = load_model(path, device)
        weights = sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()])
        rows.append(
            {
                "candidate": name,
                "architecture": model.config.model_type,
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


def rank_candidates(results: pd.DataFrame, weights: Mapping[str, float], allowed_licences: Sequence[str]) -> pd.DataFrame:
    """Weighted score in [0, 1] over min-max-normalised criteria (1 = best), for licence-eligible candidates only.

    ``weights`` keys are criterion names: quality, latency, memory, size. Ineligible rows get score 0 and rank None.
    """
    unknown = set(weights) - set(LOWER_IS_BETTER.values())
    if unknown:
        raise ValueError(f"unknown criteria {sorted(unknown)}; use {sorted(LOWER_IS_BETTER.values())}")
    allowed = {lic.lower() for lic in allowed_licences}
    out = results.copy()
    out["eligible"] = out["licence"].str.lower().isin(allowed)
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
