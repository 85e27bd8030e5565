"""The one interface the engine needs from a model, and the settings every backend honours."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol, runtime_checkable


@runtime_checkable
class Backend(Protocol):
    """A test can pass a plain object with this method; ``model_id``/``revision`` are optional."""

    def generate(self, prompts: list[str]) -> list[str]: ...


class BackendError(RuntimeError):
    """A model that cannot answer (missing path, unreachable endpoint, timeout), said plainly."""


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings, recorded with every call; temperature 0 / do_sample False is greedy."""

    max_new_tokens: int = 60
    temperature: float = 0.0
    do_sample: bool = False
    top_p: float = 1.0
    seed: int = 0
    timeout_s: float = 60.0
    retries: int = 1
    backoff_s: float = 1.0  # wait before the first retry of a failed prompt; doubled for each next one

    def as_record(self) -> dict:
        return asdict(self)


def identify(backend: Backend) -> tuple[str, str | None]:
    """Model id and revision for the call records; plain objects are named by their class."""
    model_id = getattr(backend, "model_id", None) or type(backend).__name__
    return str(model_id), getattr(backend, "revision", None)
