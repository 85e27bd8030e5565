"""The end-of-course quiz, without widgets: pick an option, learn whether it is right and why.

Every option carries its own explanation, shown once chosen, whether right or wrong: a wrong
pick teaches as much as a right one, as in the Hugging Face course. Each answer is recorded in
the learner's progress (kind ``quiz``). The ipywidgets view is :mod:`aifnb_widgets.ui.quiz`.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import progress
from .answers import canonical, digest
from .spec import CourseSpec, Question

__all__ = ["Feedback", "Quiz"]


@dataclass(frozen=True)
class Feedback:
    """What the learner sees after choosing ``choice`` (an option's index) of ``item``."""

    item: str
    choice: int
    correct: bool
    explanation: str

    def text(self) -> str:
        mark = "✅ Right" if self.correct else "❌ Not this one"
        return f"{mark} — {self.explanation}"


class Quiz:
    """The quiz of one course; :attr:`results` holds each question's latest outcome."""

    def __init__(self, spec: CourseSpec) -> None:
        self.course = spec.course
        self.questions: list[Question] = list(spec.quiz)
        self.results: dict[str, bool] = {}

    def question(self, item: str) -> Question:
        """The question named ``item``; ValueError naming the known ones otherwise."""
        for q in self.questions:
            if q.item == item:
                return q
        raise ValueError(f"quiz of {self.course!r} has no question {item!r}; it has {[q.item for q in self.questions]}")

    def answer(self, item: str, choice: int) -> Feedback:
        """Judge and record option ``choice`` (0-based) of question ``item``."""
        q = self.question(item)
        if isinstance(choice, bool) or not isinstance(choice, int) or not 0 <= choice < len(q.options):
            raise ValueError(f"question {item!r}: choice must be an option index 0..{len(q.options) - 1}, got {choice!r}")
        correct = digest(self.course, item, canonical("choice", choice)) == q.answer
        self.results[item] = correct
        progress.record(self.course, item, "quiz", correct)
        return Feedback(item, choice, correct, q.options[choice].explanation)

    @property
    def right(self) -> int:
        return sum(self.results.values())
