"""Catalogues written for a test: the demo file's entries, or variations of one, below a tmp root."""

from __future__ import annotations

import copy
import grp
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from aifnb_data.demo import DEMO_CATALOGUE


def demo_entries() -> list[dict]:
    """The demo catalogue's entries as plain data (a fresh copy each call)."""
    return copy.deepcopy(yaml.safe_load(DEMO_CATALOGUE.read_text())["entries"])


def entry(name: str) -> dict:
    """One demo entry by name, as plain data."""
    return next(e for e in demo_entries() if e["name"] == name)


def served_entry() -> dict:
    """A model served at an OpenAI-compatible endpoint (no path), with the tiny GPT-2's card."""
    served = entry("tiny-gpt2") | {
        "name": "served",
        "format": "openai",
        "endpoint": "http://10.0.0.5:8000/v1",
        "served_name": "m",
    }
    del served["path"]
    return served


@pytest.fixture
def write_catalogue(tmp_path: Path) -> Callable[..., Path]:
    """Write ``entries`` as a catalogue file with ``root`` (default tmp_path/data); returns its path."""
    counter = iter(range(100))

    def write(entries: list[dict], root: Path | None = None) -> Path:
        path = tmp_path / f"catalogue-{next(counter)}.yaml"
        path.write_text(yaml.safe_dump({"root": str(root or tmp_path / "data"), "entries": entries}))
        return path

    return write


@pytest.fixture
def own_group() -> str:
    """The Unix group of this process: files it creates belong to it without chown."""
    return grp.getgrgid(os.getegid()).gr_name
