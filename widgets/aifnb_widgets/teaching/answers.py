"""Expected answers kept out of the course notebooks: hashed, or computed from the notebook's data.

What hashing buys: a learner who opens a course's YAML (``teaching/courses/``) sees digests,
not answers, so no exercise cell sits next to its solution and nothing is given away at a
glance. What it does not buy: this is not a secure grader. The package is on the learner's
disk; an answer space as small as True/False, a letter or a count is recovered from its digest
in a second by trying every value, and the check runs in the learner's own kernel, which they
may change. Progress records are the learner's own account of their work, for them and their
trainer, not an exam.

A digest cannot say "close enough", so numbers with a tolerance and answers that depend on the
run (the best epoch, a k-anonymity, a registered model's version) are not hashed: their
expected value is computed here from the notebook's own data (:data:`COMPUTED`) and compared
with :func:`~aifnb_widgets.teaching.check.matches`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable, Iterable
from typing import Any, Literal

from .check import to_plain

__all__ = ["COMPUTED", "AnswerForm", "Kind", "canonical", "digest"]

#: How an answer is put in canonical form before hashing (``choice``: a quiz option's index).
Kind = Literal["text", "number", "bool", "set", "sequence", "date", "choice"]

#: What a learner is told when an answer is not even of the right form (never the answer).
FORMS: dict[str, str] = {
    "text": "a string",
    "number": "a number",
    "bool": "True or False",
    "set": "a set (or list) of values",
    "sequence": "a tuple (or list) of values, in order",
    "date": "a datetime.date (or an ISO string such as '2030-01-31')",
    "choice": "the number of one of the options",
}


class AnswerForm(ValueError):
    """The answer is not of the form the exercise asks for (a string where a set was asked...)."""


def _text(value: Any, prefixes: Iterable[str]) -> str:
    if not isinstance(value, str):
        raise AnswerForm(FORMS["text"])
    text = "".join(value.split()).casefold()
    for prefix in prefixes:
        text = text.removeprefix(prefix)
    return text


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AnswerForm(FORMS["number"])
    if isinstance(value, float) and abs(value - round(value)) <= 1e-9 * max(1.0, abs(value)):
        value = round(value)
    return str(value) if isinstance(value, int) else repr(float(value))


def _element(value: Any) -> str:
    return _text(value, ()) if isinstance(value, str) else _number(value)


def canonical(kind: Kind, value: Any, prefixes: Iterable[str] = ()) -> str:
    """The canonical text of ``value`` read as ``kind``: case and whitespace ignored in text
    (then any of ``prefixes`` dropped, e.g. "art."), integral floats as ints, sets sorted,
    dates in ISO form. JSON-shaped values (lists for sets and tuples, ISO strings for dates) are
    accepted too, since papermill passes answers as JSON. Raises :class:`AnswerForm`."""
    value = to_plain(value)
    if kind == "text":
        return _text(value, prefixes)
    if kind in ("number", "choice"):
        if kind == "choice" and not (isinstance(value, int) and not isinstance(value, bool)):
            raise AnswerForm(FORMS["choice"])
        return _number(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise AnswerForm(FORMS["bool"])
        return str(value)
    if kind == "set":
        if isinstance(value, (str, bytes, dict)) or not isinstance(value, Iterable):
            raise AnswerForm(FORMS["set"])
        return "{" + ",".join(sorted({_element(v) for v in value})) + "}"
    if kind == "sequence":
        if not isinstance(value, (list, tuple)):
            raise AnswerForm(FORMS["sequence"])
        return "(" + ",".join(_element(v) for v in value) + ")"
    if kind == "date":
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                raise AnswerForm(FORMS["date"]) from None
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise AnswerForm(FORMS["date"])
        return value.isoformat()
    raise ValueError(f"unknown answer kind {kind!r}")


def digest(course: str, item: str, canonical_text: str) -> str:
    """SHA-256 of the canonical answer, salted with course and item so that the same answer to
    two exercises (True, 3) does not show as the same digest twice."""
    return hashlib.sha256(f"{course}\x1f{item}\x1f{canonical_text}".encode()).hexdigest()


def best_epoch(history: list[dict[str, float]]) -> int:
    """The 1-based epoch with the lowest test loss."""
    return int(min(history, key=lambda h: h["test_loss"])["epoch"])


def token_count(tokenizer: Any, text: str) -> int:
    """How many tokens ``tokenizer`` makes of ``text``."""
    return len(tokenizer(text)["input_ids"])


def uniform_loss(tokenizer: Any) -> float:
    """The cross-entropy of a uniform guess over the vocabulary: log V."""
    return math.log(len(tokenizer))


def lowest_pass_rate(table: Any) -> str:
    """The category with the lowest pass rate in a results table (a pandas DataFrame)."""
    return str(table.loc[table["pass_rate"].idxmin(), "category"])


def k_with_bands(raw: Any, quasi: list[str], band: int, minimise: Callable[[Any, int], Any]) -> int:
    """k-anonymity on ``quasi`` after the notebook's own ``minimise(raw, band)``."""
    from .privacy import k_anonymity

    return int(k_anonymity(minimise(raw, band), quasi))


def best_learning_rate(runs: Any) -> float:
    """The learning rate of the MLflow run with the highest test accuracy."""
    best = runs.loc[runs["metrics.test_accuracy"].astype(float).idxmax()]
    return float(best["params.lr"])


def model_uri(name: str, version: str | int) -> str:
    """The URI that loads exactly one registered version."""
    return f"models:/{name}/{version}"


#: Expected values computed from a notebook's data, by the name a course's YAML gives.
COMPUTED: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (best_epoch, token_count, uniform_loss, lowest_pass_rate, k_with_bands, best_learning_rate, model_uri)
}
