"""Hashed character n-gram features: a dependency-free text representation for small classifiers.

Character n-grams make a model tolerant to some spelling variation, which is why robustness tests that
alter characters are the informative ones for it. crc32 instead of ``hash()``: features must not change
between Python processes.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Sequence

import numpy as np

from aifnb_widgets.sandboxes.robustness.perturbations import HOMOGLYPHS, LEET

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_UNHOMOGLYPH = str.maketrans({v: k for k, v in HOMOGLYPHS.items()})
_LEET_IN_WORD = re.compile(r"(?<=[a-z])[" + "".join(LEET.values()) + r"]|[" + "".join(LEET.values()) + r"](?=[a-z])")
_UNLEET = {v: k for k, v in LEET.items()}


def hashed_char_ngrams(texts: Sequence[str], dim: int = 4096, n_values: tuple[int, ...] = (3, 4)) -> np.ndarray:
    """L2-normalised n-gram counts, shape (len(texts), dim), float32."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for row, text in enumerate(texts):
        padded = f" {text.lower()} "
        for n in n_values:
            for i in range(len(padded) - n + 1):
                out[row, zlib.crc32(padded[i : i + n].encode("utf-8")) % dim] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1.0)


def normalise_text(text: str) -> str:
    """Input sanitisation against character-level evasion: NFKC, zero-width removal, homoglyph and in-word leet mapping."""
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text)).translate(_UNHOMOGLYPH).lower()
    for _ in range(2):  # a second pass reaches digits whose neighbour was itself a digit ("th15")
        text = _LEET_IN_WORD.sub(lambda m: _UNLEET[m.group(0)], text)
    return text
