"""``Course``: what a course notebook calls to check an exercise and to run its quiz.

A notebook names the item and passes the learner's answer (plus, for a computed answer, the
data it is computed from); the expected value stays in the package (:mod:`.spec`,
:mod:`.answers`). A wrong try prints a hint, the next hint on the next wrong try, and never
the expected value or the answer given; a right one prints why it is right. Every judged try
is recorded in the learner's progress (:mod:`.progress`). An unanswered exercise (``...``) is
not a try: it prints the first hint and leaves the notebook running top to bottom.

``answers`` (a notebook's ``ANSWERS`` parameter, ``{item: answer}``) fills the exercises and
quiz questions the learner left at ``...``: how CI runs a course headless, and how a trainer
walks through it. Each such answer is announced as supplied, and judged like a typed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import progress
from .answers import COMPUTED, AnswerForm, canonical, digest
from .check import matches
from .quiz import Quiz
from .spec import Exercise, load_course

__all__ = ["Course"]


class Course:
    """The checks and quiz of ``course`` (e.g. ``"01-working-on-the-ai-factory"``)."""

    def __init__(self, course: str, answers: Mapping[str, Any] | None = None) -> None:
        self.spec = load_course(course)
        self.name = course
        self.answers = dict(answers or {})
        known = {e.item for e in self.spec.exercises} | {q.item for q in self.spec.quiz}
        unknown = sorted(set(self.answers) - known)
        if unknown:
            raise ValueError(f"ANSWERS names items course {course!r} does not have: {unknown}")
        self.results: dict[str, bool | None] = {}
        self.tries: dict[str, int] = {}
        self.quiz_model = Quiz(self.spec)

    def judge(self, item: str, answer: Any, **data: Any) -> bool:
        """Whether ``answer`` is right for exercise ``item``; prints and records nothing."""
        return self._judge(self.spec.exercise(item), answer, data)

    def _judge(self, exercise: Exercise, answer: Any, data: dict[str, Any]) -> bool:
        if exercise.compute is not None:
            expected = COMPUTED[exercise.compute](**exercise.args, **data)
            try:
                return matches(answer, expected, rel=exercise.rel)
            except (TypeError, ValueError):  # an answer of a shape `matches` cannot compare
                return False
        return digest(self.name, exercise.item, canonical(exercise.kind, answer, exercise.prefixes)) in exercise.accept

    def check(self, item: str, answer: Any, **data: Any) -> bool | None:
        """Judge, record and explain the learner's ``answer`` to exercise ``item``.

        Returns True or False, or None while unanswered (``...``). ``data`` is what a computed
        answer is computed from (the notebook's own variables)."""
        exercise = self.spec.exercise(item)
        if answer is Ellipsis and item in self.answers:
            answer = self.answers[item]
            print(f"[{item}] answer supplied by the ANSWERS parameter")
        if answer is Ellipsis:
            print(f"✏️ [{item}] Not answered yet — replace `...` with your answer. Hint: {exercise.hints[0]}")
            self.results.setdefault(item, None)
            return None
        try:
            ok, form = self._judge(exercise, answer, data), ""
        except AnswerForm as wrong_form:
            ok, form = False, f" The answer should be {wrong_form}."
        self.tries[item] = self.tries.get(item, 0) + 1
        self.results[item] = ok
        progress.record(self.name, item, "check", ok)
        if ok:
            print(f"✅ [{item}] Right — {exercise.explanation}")
        else:
            hint = exercise.hints[min(self.tries[item], len(exercise.hints)) - 1]
            print(f"❌ [{item}] Not quite (try {self.tries[item]}).{form} Hint: {hint}")
        return ok

    def quiz(self) -> Any:
        """The quiz widget, to display as a cell's last line; questions named in ``answers``
        are answered through it at once, and their feedback printed for a headless run."""
        from aifnb_widgets.ui.quiz import QuizView  # ipywidgets only when a quiz is shown

        view = QuizView(self.quiz_model)
        for q in self.quiz_model.questions:
            if q.item in self.answers:
                choice = self.answers[q.item]
                feedback = view.choose(q.item, choice)
                print(f"[{q.item}] option {choice} supplied by the ANSWERS parameter: {feedback.text()}")
        return view.widget

    @property
    def right(self) -> int:
        return sum(1 for r in self.results.values() if r is True)

    def summary(self) -> str:
        """One line for the end of the notebook."""
        n, quiz = len(self.spec.exercises), self.quiz_model
        return (
            f"exercises: {self.right} of {n} right; quiz: {quiz.right} of {len(quiz.questions)} right"
            f" (progress kept in {progress.progress_file()})"
        )

    def metrics(self) -> dict[str, int]:
        """Counts for the notebook's metrics JSON."""
        return {
            "exercises_total": len(self.spec.exercises),
            "exercises_right": self.right,
            "quiz_total": len(self.quiz_model.questions),
            "quiz_right": self.quiz_model.right,
        }
