"""``check(answer, expected, hint=...)``: tell a learner right or wrong, with a hint.

Not a hidden grader: the expected value sits in the notebook next to the exercise. An
unanswered exercise (``answer = ...``) prints the hint and returns ``None`` so a notebook
still runs top to bottom.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Exercises", "check", "matches", "to_plain"]

RIGHT = "✅ Right"
WRONG = "❌ Not quite"
OPEN = "✏️ Not answered yet"


def to_plain(x: Any) -> Any:
    """numpy / torch scalars and arrays -> Python numbers / nested lists."""
    if hasattr(x, "detach") and callable(x.detach):  # torch tensor
        x = x.detach().cpu().numpy()
    if hasattr(x, "tolist") and callable(x.tolist) and not isinstance(x, (str, bytes)):
        return x.tolist()
    return x


def matches(answer: Any, expected: Any, *, rel: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """Lenient equality: numbers within tolerance, strings ignoring case and surrounding
    space, sequences element-wise, sets as sets, mappings key-wise; a callable ``expected``
    is a predicate on the answer."""
    if callable(expected) and not isinstance(expected, type):
        return bool(expected(answer))
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


def check(
    answer: Any,
    expected: Any | Callable[[Any], bool],
    hint: str = "",
    *,
    rel: float = 1e-6,
    abs_tol: float = 1e-9,
    name: str = "",
    quiet: bool = False,
) -> bool | None:
    """Print whether ``answer`` is right; return True/False, or None when not answered (``...``)."""
    label = f"[{name}] " if name else ""
    if answer is Ellipsis:
        if not quiet:
            print(f"{OPEN} {label}— replace `...` with your answer." + (f" Hint: {hint}" if hint else ""))
        return None
    try:
        ok = matches(answer, expected, rel=rel, abs_tol=abs_tol)
    except Exception as exc:  # a predicate that cannot handle the answer: wrong, not a crash
        ok = False
        hint = f"{hint} (checking raised {type(exc).__name__}: {exc})".strip()
    if not quiet:
        if ok:
            print(f"{RIGHT} {label}— well done.")
        else:
            shown = repr(answer)
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            print(f"{WRONG} {label}— you answered {shown}." + (f" Hint: {hint}" if hint else ""))
    return ok


class Exercises:
    """Collects the outcome of a notebook's exercises, for its summary and metrics JSON."""

    def __init__(self) -> None:
        self.results: dict[str, bool | None] = {}

    def check(self, name: str, answer: Any, expected: Any, hint: str = "", **kw: Any) -> bool | None:
        result = check(answer, expected, hint, name=name, **kw)
        self.results[name] = result
        return result

    @property
    def right(self) -> int:
        return sum(1 for r in self.results.values() if r is True)

    @property
    def wrong(self) -> int:
        return sum(1 for r in self.results.values() if r is False)

    @property
    def open(self) -> int:
        return sum(1 for r in self.results.values() if r is None)

    def summary(self) -> str:
        return f"{len(self.results)} exercises: {self.right} right, {self.wrong} not quite, {self.open} not answered yet"
