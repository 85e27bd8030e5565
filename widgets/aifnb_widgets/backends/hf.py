"""Local Hugging Face models: batched, left-padded generation on CUDA when present, else CPU.

LangBiTe has no local path and sends one prompt per request; batching is what makes a full
library affordable on one GPU (see benchmarks/bias_throughput.py).
"""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

from aifnb_widgets.backends.base import BackendError, GenerationSettings
from aifnb_widgets.mlops import MlflowServiceError, is_model_uri


class HFBackend:
    """Decoder-only and encoder-decoder (T5-style) models loaded with ``from_pretrained``."""

    def __init__(self, name_or_path: str, settings: GenerationSettings | None = None, device: str | None = None):
        from aifnb_widgets.torch_runtime import load_pretrained, resolve_device

        self.settings = settings or GenerationSettings()
        self.model_id = name_or_path
        path = Path(name_or_path).expanduser()
        looks_local = name_or_path.startswith((".", "/", "~")) or path.exists()
        if looks_local and not path.is_dir():
            raise BackendError(f"model path {name_or_path} does not exist (or is not a directory)")
        source = str(path) if looks_local else name_or_path
        self.device = str(resolve_device(device or "auto"))
        try:
            self.model, self.tokenizer, config = load_pretrained(source, self.device)
        except (OSError, ValueError, MlflowServiceError) as exc:
            raise BackendError(f"cannot load model {name_or_path!r}: {exc}") from None
        self.is_encoder_decoder = bool(config.is_encoder_decoder)
        if not self.is_encoder_decoder:
            self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # A registered model version never changes: its URI names it exactly.
        registered = name_or_path if is_model_uri(name_or_path) else None
        self.revision = registered or getattr(config, "_commit_hash", None) or (_fingerprint(path) if looks_local else None)

    def _inputs(self, prompts: list[str]) -> tuple[list[str], bool]:
        """Chat models get their chat template (which holds its own special tokens)."""
        if getattr(self.tokenizer, "chat_template", None):
            texts = [
                self.tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True)
                for p in prompts
            ]
            return texts, True
        return prompts, False

    def generate(self, prompts: list[str]) -> list[str]:
        import torch

        if not prompts:
            return []
        texts, chat = self._inputs(prompts)
        batch = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=not chat).to(self.device)
        options = {
            "max_new_tokens": self.settings.max_new_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
            "do_sample": self.settings.do_sample,
        }
        if self.settings.do_sample:
            options.update(temperature=self.settings.temperature or 1.0, top_p=self.settings.top_p)
            # Seed from the batch itself: the same prompts give the same samples on a resumed run.
            torch.manual_seed(self.settings.seed ^ zlib.crc32("\x00".join(prompts).encode()))
        else:
            # Greedy: clear sampling knobs a checkpoint's generation_config may carry, so they
            # neither apply nor warn.
            options.update(temperature=None, top_p=None, top_k=None)
        with torch.inference_mode():
            output = self.model.generate(**batch, **options)
        if not self.is_encoder_decoder:
            output = output[:, batch["input_ids"].shape[1] :]
        return [text.strip() for text in self.tokenizer.batch_decode(output, skip_special_tokens=True)]


def _fingerprint(path: Path) -> str:
    """Cheap identity of a local checkpoint: config bytes plus weight-file names and sizes."""
    digest = hashlib.sha256()
    config = path / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return "local-" + digest.hexdigest()[:12]
