"""The right answers to every course's exercises and quiz, as CI passes them (ANSWERS).

Kept in tests/, never shipped: the package holds only digests and computations. The notebook
tests run each course with these, the teaching tests prove that each is judged right and that a
wrong try never prints one of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ANSWERS_FILE = Path(__file__).with_name("course_answers.yaml")


def course_answers() -> dict[str, dict[str, Any]]:
    """{course: {item: right answer}}; quiz answers are 0-based option indices."""
    return yaml.safe_load(ANSWERS_FILE.read_text(encoding="utf-8"))
