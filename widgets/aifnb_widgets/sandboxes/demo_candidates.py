"""Local stand-ins for "pre-trained candidates", so the model-selection sandbox runs with no hub access.

They differ the way real candidates do: size, architecture, licence, and whether they saw text like the
company's (one is briefly trained on domain text, so it must win on quality).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from tqdm.auto import tqdm
from transformers import AutoModelForCausalLM, AutoTokenizer

from aifnb_widgets.models.tiny import build_tiny_causal_lm, build_tiny_seq2seq


def _write_card(path: Path, licence: str, description: str) -> None:
    (path / "README.md").write_text(f"---\nlicense: {licence}\n---\n\n# {path.name}\n\n{description}\n", encoding="utf-8")


def continue_pretraining(
    path: Path, texts: Sequence[str], steps: int, seed: int = 0, batch_size: int = 8, lr: float = 3e-3
) -> Path:
    """A few causal-LM steps on domain text, saved in place."""
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    for _ in tqdm(range(steps), desc=f"pre-training {path.name}", unit="step"):
        picks = torch.randint(len(texts), (batch_size,), generator=generator).tolist()
        batch = tokenizer([texts[i] for i in picks], return_tensors="pt", padding=True)
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        loss = model(**batch, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_demo_candidates(root: str | Path, domain_texts: Sequence[str], steps: int = 40, seed: int = 0) -> dict[str, Path]:
    root = Path(root)
    candidates = {
        "tiny-gpt2-generic": build_tiny_causal_lm(root / "tiny-gpt2-generic", seed=seed),
        "tiny-gpt2-domain": build_tiny_causal_lm(root / "tiny-gpt2-domain", seed=seed),
        "small-gpt2-generic": build_tiny_causal_lm(root / "small-gpt2-generic", n_layer=4, n_head=4, n_embd=128, seed=seed),
        "tiny-t5": build_tiny_seq2seq(root / "tiny-t5", seed=seed),
    }
    continue_pretraining(candidates["tiny-gpt2-domain"], domain_texts, steps=steps, seed=seed)
    _write_card(candidates["tiny-gpt2-generic"], "apache-2.0", "Random-weight GPT-2-style model.")
    _write_card(candidates["tiny-gpt2-domain"], "apache-2.0", "GPT-2-style model briefly trained on domain e-mails.")
    _write_card(candidates["small-gpt2-generic"], "mit", "Larger random-weight GPT-2-style model.")
    _write_card(candidates["tiny-t5"], "cc-by-nc-4.0", "T5-style encoder-decoder; non-commercial licence.")
    return candidates
