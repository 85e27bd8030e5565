"""A course's exercises and quiz, declared in ``teaching/courses/<course>.yaml``.

The YAML, not the notebook, holds what is right: a digest per accepted answer or the name of a
computation over the notebook's data (see :mod:`.answers` for what that hides and what not),
the hints shown after a wrong try, the explanation shown after a right one, and the quiz with
an explanation per option. Loaded into frozen models that reject unknown keys, so a typo fails
when the course loads (and in tests/widgets/teaching), not when a learner reaches the cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from .answers import COMPUTED, Kind, digest
from .progress import ITEM

__all__ = ["COURSES_DIR", "CourseSpec", "Exercise", "Option", "Question", "course_names", "load_course"]

COURSES_DIR = Path(__file__).with_name("courses")

# pydantic-core's regex: ``$`` is the end of the text (no trailing newline slips through).
Name = Annotated[str, StringConstraints(pattern=rf"^(?:{ITEM.pattern})$")]
Digest = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Exercise(_Frozen):
    """One checked exercise: hashed answers (``accept``) or a computation (``compute``)."""

    item: Name
    kind: Kind = "text"
    accept: list[Digest] = Field(default_factory=list)
    compute: str | None = None
    args: dict[str, str | int | float | bool] = Field(default_factory=dict)
    rel: float = Field(default=1e-6, gt=0, lt=1)
    prefixes: list[Text] = Field(default_factory=list)
    hints: list[Text] = Field(min_length=1)
    explanation: Text

    @model_validator(mode="after")
    def _one_source_of_truth(self) -> Exercise:
        if bool(self.accept) == (self.compute is not None):
            raise ValueError(f"exercise {self.item!r}: give either accept (digests) or compute, not both or neither")
        if self.compute is not None and self.compute not in COMPUTED:
            raise ValueError(f"exercise {self.item!r}: compute {self.compute!r} is not one of {sorted(COMPUTED)}")
        if self.args and self.compute is None:
            raise ValueError(f"exercise {self.item!r}: args are for a computed answer")
        if self.prefixes and self.kind != "text":
            raise ValueError(f"exercise {self.item!r}: prefixes apply to text answers only")
        return self


class Option(_Frozen):
    """A quiz option and why it is right or wrong (shown once chosen, as the Hugging Face course does)."""

    text: Text
    explanation: Text


class Question(_Frozen):
    """A multiple-choice question; ``answer`` is the digest of the right option's index."""

    item: Name
    question: Text
    options: list[Option] = Field(min_length=2, max_length=6)
    answer: Digest


class CourseSpec(_Frozen):
    """Everything a course checks. ``course`` is the notebook's name without ``.ipynb``."""

    course: Name
    exercises: list[Exercise] = Field(min_length=1)
    quiz: list[Question] = Field(min_length=3)

    @model_validator(mode="after")
    def _items_unique_and_one_right_option(self) -> CourseSpec:
        items = [e.item for e in self.exercises] + [q.item for q in self.quiz]
        twice = sorted({i for i in items if items.count(i) > 1})
        if twice:
            raise ValueError(f"course {self.course!r}: items named twice: {twice}")
        for q in self.quiz:
            right = [i for i in range(len(q.options)) if digest(self.course, q.item, str(i)) == q.answer]
            if len(right) != 1:
                raise ValueError(f"course {self.course!r}, question {q.item!r}: answer matches no option")
        return self

    def exercise(self, item: str) -> Exercise:
        """The exercise named ``item``; ValueError naming the known ones otherwise."""
        for e in self.exercises:
            if e.item == item:
                return e
        raise ValueError(f"course {self.course!r} has no exercise {item!r}; it has {[e.item for e in self.exercises]}")


def course_names() -> list[str]:
    """The courses that declare exercises and a quiz, in order."""
    return sorted(p.stem for p in COURSES_DIR.glob("*.yaml"))


def load_course(course: str, *, source: dict[str, Any] | None = None) -> CourseSpec:
    """Load and validate ``courses/<course>.yaml`` (or an already-parsed ``source``)."""
    if source is None:
        path = COURSES_DIR / f"{course}.yaml"
        if not ITEM.fullmatch(course) or not path.is_file():
            raise ValueError(f"no course {course!r}; courses: {course_names()}")
        source = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec = CourseSpec.model_validate(source)
    if spec.course != course:
        raise ValueError(f"courses/{course}.yaml declares course {spec.course!r}")
    return spec
