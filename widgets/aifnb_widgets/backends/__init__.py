"""Model backends: anything with ``generate(prompts: list[str]) -> list[str]`` can be assessed."""

from aifnb_widgets.backends.base import Backend, BackendError, GenerationSettings

__all__ = ["Backend", "BackendError", "GenerationSettings"]
