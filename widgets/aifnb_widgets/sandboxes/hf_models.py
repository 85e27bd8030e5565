"""Loading Hugging Face checkpoints the same way in every sandbox: local path or hub id, right Auto class, device.

On the Factory, candidates are local folders (no hub access from compute nodes); ids work where a cache or
network is available. Nothing here is specific to the tiny demo models.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import PreTrainedModel

from aifnb_widgets.torch_runtime import DTYPES, load_pretrained, resolve_dtype

__all__ = ["DTYPES", "chat_generator", "load_model", "resolve_dtype"]


def load_model(path: str | Path, device: torch.device, dtype: str = "float32") -> tuple[PreTrainedModel, object]:
    """Causal or encoder-decoder model (from its config) in eval mode on ``device`` in ``dtype``, and its tokenizer."""
    model, tokenizer, _ = load_pretrained(path, device, dtype)
    return model, tokenizer


def chat_generator(model: PreTrainedModel, tokenizer, device: torch.device, max_new_tokens: int = 32):
    """``generate(system, user) -> answer`` with greedy decoding (deterministic, so test results are reproducible)."""

    @torch.no_grad()
    def generate(system: str, user: str) -> str:
        if getattr(tokenizer, "chat_template", None):
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        else:
            inputs = tokenizer(f"{system}\n\n{user}", return_tensors="pt")
        inputs = {k: v.to(device) for k, v in inputs.items()}
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)
        new_tokens = out[0] if model.config.is_encoder_decoder else out[0, inputs["input_ids"].shape[1] :]
        return tokenizer.decode(new_tokens, skip_special_tokens=True)

    return generate
