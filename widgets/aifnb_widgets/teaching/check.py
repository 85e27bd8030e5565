"""``matches(answer, expected)``: a learner's answer against an expected value computed from
the notebook's data (:mod:`.answers`), leniently: within a tolerance, whatever the container.

numpy and torch values are compared as the Python numbers and lists they hold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["matches", "to_plain"]


def to_plain(x: Any) -> Any:
    """numpy / torch scalars and arrays -> Python numbers / nested lists."""
    if hasattr(x, "detach") and callable(x.detach):  # torch tensor
        x = x.detach().cpu().numpy()
    if hasattr(x, "tolist") and callable(x.tolist) and not isinstance(x, (str, bytes)):
        return x.tolist()
    return x


def matches(answer: Any, expected: Any, *, rel: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """Lenient equality: numbers within tolerance, strings ignoring case and surrounding
    space, sequences element-wise, sets as sets, mappings key-wise."""
    answer, expected = to_plain(answer), to_plain(expected)
    if isinstance(expected, bool) or isinstance(answer, bool):
        return isinstance(answer, bool) and isinstance(expected, bool) and answer == expected
    if isinstance(expected, (int, float)):
        if not isinstance(answer, (int, float)):
            return False
        if math.isnan(expected):
            return math.isnan(answer)
        return math.isclose(answer, expected, rel_tol=rel, abs_tol=abs_tol)
    if isinstance(expected, str):
        return isinstance(answer, str) and answer.strip().casefold() == expected.strip().casefold()
    if isinstance(expected, (set, frozenset)):
        try:
            a = {x.strip().casefold() if isinstance(x, str) else x for x in answer}
        except TypeError:
            return False
        e = {x.strip().casefold() if isinstance(x, str) else x for x in expected}
        return a == e
    if isinstance(expected, Mapping):
        return (
            isinstance(answer, Mapping)
            and set(answer) == set(expected)
            and all(matches(answer[k], expected[k], rel=rel, abs_tol=abs_tol) for k in expected)
        )
    if isinstance(expected, (list, tuple)):
        return (
            isinstance(answer, (list, tuple))
            and len(answer) == len(expected)
            and all(matches(a, e, rel=rel, abs_tol=abs_tol) for a, e in zip(answer, expected))
        )
    return answer == expected
