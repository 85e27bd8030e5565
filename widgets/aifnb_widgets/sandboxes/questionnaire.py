"""Questionnaire schema shared by the triage, conformity and maturity sandboxes.

Questions are data (YAML next to the code) so that reviewers can audit wording and legal citations
without reading Python, and one generic widget can render any of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from typing import Any

from pydantic import Field, model_validator

from aifnb_widgets.sandboxes.validated_data import Strict

AnswerValue = bool | str | list[str] | int


class QuestionKind(str, Enum):
    yes_no = "yes_no"
    single = "single"
    multi = "multi"


class Option(Strict):
    id: str
    label: str
    score: int | None = None


class Question(Strict):
    id: str
    text: str
    kind: QuestionKind
    options: tuple[Option, ...] = ()
    help: str = ""
    cites: str = ""

    @model_validator(mode="after")
    def _options_match_kind(self) -> Question:
        if self.kind is QuestionKind.yes_no and self.options:
            raise ValueError(f"yes/no question {self.id!r} takes no options")
        if self.kind is not QuestionKind.yes_no and not self.options:
            raise ValueError(f"question {self.id!r} needs options")
        ids = [o.id for o in self.options]
        if len(ids) != len(set(ids)):
            raise ValueError(f"question {self.id!r} has duplicate option ids")
        return self

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)

    def default(self) -> AnswerValue:
        if self.kind is QuestionKind.yes_no:
            return False
        if self.kind is QuestionKind.multi:
            return []
        return self.options[0].id

    def validate_answer(self, value: Any) -> AnswerValue:
        """Reject answers a widget could never produce, so headless runs fail early on typos."""
        if self.kind is QuestionKind.yes_no:
            if not isinstance(value, bool):
                raise ValueError(f"{self.id}: expected true/false, got {value!r}")
            return value
        if self.kind is QuestionKind.multi:
            if not isinstance(value, (list, tuple)):
                raise ValueError(f"{self.id}: expected a list of {self.option_ids}, got {value!r}")
            unknown = [v for v in value if v not in self.option_ids]
            if unknown:
                raise ValueError(f"{self.id}: unknown options {unknown}; choose from {self.option_ids}")
            return [o for o in self.option_ids if o in value]
        if value not in self.option_ids:
            raise ValueError(f"{self.id}: {value!r} is not one of {self.option_ids}")
        return value


class Questionnaire(Strict):
    title: str
    questions: tuple[Question, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Questionnaire:
        ids = [q.id for q in self.questions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate question ids: {dupes}")
        return self

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def complete_answers(self, answers: Mapping[str, Any] | str | None) -> dict[str, AnswerValue]:
        """Fill defaults for unanswered questions; accepts the JSON string a papermill parameter carries."""
        given = parse_answers(answers)
        unknown = sorted(set(given) - {q.id for q in self.questions})
        if unknown:
            raise ValueError(f"answers for unknown questions: {unknown}")
        return {q.id: q.validate_answer(given[q.id]) if q.id in given else q.default() for q in self.questions}


def parse_answers(answers: Mapping[str, Any] | str | None) -> dict[str, Any]:
    if answers is None or answers == "":
        return {}
    if isinstance(answers, str):
        answers = json.loads(answers)
    if not isinstance(answers, Mapping):
        raise ValueError("answers must be a mapping of question id to answer")
    return dict(answers)
