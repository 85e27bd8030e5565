"""Loading Hugging Face checkpoints the same way in every sandbox: local path or hub id, right Auto class, device.

On the Factory, candidates are local folders (no hub access from compute nodes); ids work where a cache or
network is available. Nothing here is specific to the tiny demo models.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, PreTrainedModel

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """ "auto" = bfloat16 on a GPU that supports it (half the memory of fp32, same exponent range), else float32.

    Why it matters: a 7 B model needs 28 GB in float32 and 14 GB in bfloat16; loading every candidate in fp32
    both overstates memory and can fail on a GPU where the model would serve fine."""
    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r} is not one of {['auto', *DTYPES]}")
    return DTYPES[dtype]


def load_model(path: str | Path, device: torch.device, dtype: str = "float32") -> tuple[PreTrainedModel, object]:
    """Causal or encoder-decoder model (from its config) in eval mode on ``device`` in ``dtype``, and its tokenizer."""
    config = AutoConfig.from_pretrained(path)
    auto = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
    model = auto.from_pretrained(path, dtype=resolve_dtype(dtype, torch.device(device))).to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
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
