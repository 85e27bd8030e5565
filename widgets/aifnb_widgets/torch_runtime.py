"""Device, dtype and Hugging Face loading in one place: every notebook, sandbox, backend and
test model picks CUDA the same way and loads a checkpoint the same way.

"auto" picks CUDA when torch sees a GPU, so the same notebook runs on a laptop CPU, in CI and on
a MeluXina-AI GPU node; asking for "cuda" where there is none fails loudly instead of silently
running on the CPU.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """ "auto" -> CUDA when present, else CPU; an explicit CUDA device on a CPU-only node raises."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"DEVICE={str(device)!r} was requested but torch sees no CUDA GPU; use DEVICE='auto' or 'cpu'")
    return resolved


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """ "auto" = bfloat16 on a GPU that supports it (half the memory of fp32, same exponent range), else float32.

    Why it matters: a 7 B model needs 28 GB in float32 and 14 GB in bfloat16; loading every candidate in fp32
    both overstates memory and can fail on a GPU where the model would serve fine."""
    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r} is not one of {['auto', *DTYPES]}")
    return DTYPES[dtype]


def load_pretrained(
    source: str | Path, device: str | torch.device = "cpu", dtype: str = "float32", **kwargs: Any
) -> tuple[Any, Any, Any]:
    """``(model, tokenizer, config)`` of a local folder, a hub id or a registered model version
    ``models:/NAME/VERSION`` (logged with ``mlflow.transformers``, fetched from the hub's MLflow
    service into a temporary folder that is gone once loaded): the causal or encoder-decoder Auto
    class chosen from its config, in eval mode on ``device`` in ``dtype``; ``kwargs`` go to the
    model's ``from_pretrained``."""
    from aifnb_widgets import mlops

    if mlops.is_model_uri(source):
        with tempfile.TemporaryDirectory(prefix="aifnb-model-") as folder:
            weights, tokenizer = mlops.download_transformers_model(str(source), folder)
            return _load(weights, tokenizer, device, dtype, **kwargs)
    return _load(source, source, device, dtype, **kwargs)


def _load(weights: str | Path, tokenizer: str | Path, device: str | torch.device, dtype: str, **kwargs: Any):
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    device = resolve_device(device)
    config = AutoConfig.from_pretrained(weights)
    auto = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
    model = auto.from_pretrained(weights, dtype=resolve_dtype(dtype, device), **kwargs).to(device).eval()
    return model, AutoTokenizer.from_pretrained(tokenizer), config
