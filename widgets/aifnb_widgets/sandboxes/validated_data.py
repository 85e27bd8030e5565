"""Base for the rules, checklists and test sets shipped as YAML: strict models, so a typo fails at load time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown keys are errors (extra="forbid") and loaded data cannot be mutated by a notebook by accident."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))
