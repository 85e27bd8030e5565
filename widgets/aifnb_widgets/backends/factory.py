"""Model specs as written in a scenario, the CLI or a Slurm job: ``PATH_OR_HF_ID`` or ``URL#MODEL``.

The same allow-list guards every spec that reaches a batch script or a subprocess.
"""

from __future__ import annotations

import re

from aifnb_widgets.backends.base import Backend, GenerationSettings

# Letters, digits and the punctuation of paths, hub ids and URLs; no spaces, quotes or shell syntax.
MODEL_SPEC = re.compile(r"^[A-Za-z0-9./~][A-Za-z0-9._/:@%+=~-]*(#[A-Za-z0-9][A-Za-z0-9._/:@+=-]*)?$")


def validate_model_spec(spec: str) -> str:
    if not MODEL_SPEC.match(spec) or ".." in spec.split("#")[0].split("/"):
        raise ValueError(
            f"model {spec!r} is not allowed: use a path, a Hugging Face id or URL#MODEL made of letters, "
            "digits and . _ / : @ % + = ~ - only"
        )
    if spec.startswith(("http://", "https://")) and "#" not in spec:
        raise ValueError(f"endpoint {spec!r} needs the served model name after '#', e.g. {spec}#my-model")
    return spec


def make_backend(spec: str, settings: GenerationSettings, device: str | None = None) -> Backend:
    validate_model_spec(spec)
    if spec.startswith(("http://", "https://")):
        from aifnb_widgets.backends.openai_compat import OpenAIBackend

        url, model = spec.split("#", 1)
        return OpenAIBackend(url, model, settings)
    from aifnb_widgets.backends.hf import HFBackend

    return HFBackend(spec, settings, device=device)
