"""Seeded character-level perturbations that mimic how attackers evade text filters.

Each perturbation is ``f(text, rng, rate) -> text``; ``rate`` is the share of eligible words or characters
changed, so a test set can be made harder without new code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Perturbation = Callable[[str, np.random.Generator, float], str]

# Latin -> Cyrillic look-alikes (visually identical in most fonts).
HOMOGLYPHS = {
    "a": "\u0430",
    "c": "\u0441",
    "e": "\u0435",
    "i": "\u0456",
    "o": "\u043e",
    "p": "\u0440",
    "x": "\u0445",
    "y": "\u0443",
}
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5"}
BENIGN_PADDING = "Thanks and have a nice day. Minutes of the team meeting attached, see you on Monday."


def _map_chars(text: str, rng: np.random.Generator, rate: float, table: dict[str, str]) -> str:
    return "".join(table[ch] if ch in table and rng.random() < rate else ch for ch in text)


def _map_words(text: str, rng: np.random.Generator, rate: float, change: Callable[[str, np.random.Generator], str]) -> str:
    return " ".join(change(w, rng) if len(w) > 3 and rng.random() < rate else w for w in text.split(" "))


def _swap(word: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(0, len(word) - 1))
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _drop(word: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(0, len(word)))
    return word[:i] + word[i + 1 :]


def typos(text: str, rng: np.random.Generator, rate: float = 0.3) -> str:
    return _map_words(text, rng, rate, _swap)


def character_deletion(text: str, rng: np.random.Generator, rate: float = 0.3) -> str:
    return _map_words(text, rng, rate, _drop)


def homoglyphs(text: str, rng: np.random.Generator, rate: float = 0.8) -> str:
    return _map_chars(text, rng, rate, HOMOGLYPHS)


def leetspeak(text: str, rng: np.random.Generator, rate: float = 0.8) -> str:
    return _map_chars(text, rng, rate, LEET)


def zero_width_spaces(text: str, rng: np.random.Generator, rate: float = 0.6) -> str:
    return "".join(ch + "\u200b" if ch.isalpha() and rng.random() < rate else ch for ch in text)


def case_noise(text: str, rng: np.random.Generator, rate: float = 0.5) -> str:
    return "".join(ch.swapcase() if rng.random() < rate else ch for ch in text)


def benign_padding(text: str, rng: np.random.Generator, rate: float = 1.0) -> str:
    """The "good word" attack: dilute a malicious message with harmless text."""
    words = BENIGN_PADDING.split(" ")
    return text + " " + " ".join(words[: max(1, round(rate * len(words)))])


PERTURBATIONS: dict[str, Perturbation] = {
    "typos": typos,
    "character deletion": character_deletion,
    "homoglyphs": homoglyphs,
    "leetspeak": leetspeak,
    "zero-width spaces": zero_width_spaces,
    "case noise": case_noise,
    "benign padding": benign_padding,
}
