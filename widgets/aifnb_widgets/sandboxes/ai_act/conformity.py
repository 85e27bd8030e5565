"""Internal-control conformity self-assessment (Art. 43, Annex VI) and the documents it seeds.

The checklist is data (``conformity_checklist.yaml``); this module scores the answers and renders a
technical-documentation skeleton ordered by the Annex IV headings, plus a model card, so that the
evidence gathered in the sandboxes lands where an assessor will look for it. NOT legal advice.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, Mapping

import jinja2
from pydantic import Field, model_validator

from aifnb_widgets.sandboxes.ai_act.triage import DISCLAIMER
from aifnb_widgets.sandboxes.questionnaire import Option, Question, Questionnaire, QuestionKind, parse_answers
from aifnb_widgets.sandboxes.validated_data import Strict, load_yaml

CHECKLIST_PATH = Path(__file__).with_name("conformity_checklist.yaml")
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


class Status(str, Enum):
    todo = "todo"
    partial = "partial"
    done = "done"
    not_applicable = "not_applicable"


STATUS_LABELS = {
    Status.todo: "Not started",
    Status.partial: "In progress",
    Status.done: "Done, evidence available",
    Status.not_applicable: "Not applicable",
}
_STATUS_CREDIT = {Status.todo: 0.0, Status.partial: 0.5, Status.done: 1.0}


class ChecklistItem(Strict):
    id: str
    cites: str
    text: str
    annex_iv: tuple[str, ...] = Field(min_length=1)
    evidence_hint: str


class Requirement(Strict):
    id: str
    title: str
    cites: str
    items: tuple[ChecklistItem, ...] = Field(min_length=1)


class AnnexIVSection(Strict):
    id: str
    title: str
    points: tuple[str, ...]


class ConformityChecklist(Strict):
    title: str
    procedure: str
    requirements: tuple[Requirement, ...]
    annex_iv: tuple[AnnexIVSection, ...]

    @model_validator(mode="after")
    def _consistent(self) -> ConformityChecklist:
        ids = [i.id for r in self.requirements for i in r.items]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate checklist item ids")
        sections = {s.id for s in self.annex_iv}
        for item in self.items:
            unknown = [ref for ref in item.annex_iv if ref.split("(")[0] not in sections]
            if unknown:
                raise ValueError(f"item {item.id} points at unknown Annex IV points {unknown}")
        return self

    @property
    def items(self) -> list[ChecklistItem]:
        return [i for r in self.requirements for i in r.items]

    def as_questionnaire(self) -> Questionnaire:
        """One status question per item, so the generic questionnaire widget can render the checklist."""
        options = tuple(Option(id=s.value, label=STATUS_LABELS[s]) for s in Status)
        return Questionnaire(
            title=self.title,
            questions=tuple(
                Question(id=i.id, text=i.text, kind=QuestionKind.single, options=options, cites=i.cites, help=i.evidence_hint)
                for i in self.items
            ),
        )


class SystemDescription(Strict):
    """What the provider states about its system; every field feeds the exported documents."""

    name: str = "TODO: system name"
    version: str = "0.1.0"
    provider: str = "TODO: provider (legal entity)"
    contact: str = "TODO: contact e-mail"
    intended_purpose: str = "TODO: intended purpose"
    model_type: str = "TODO: model family and architecture"
    licence: str = "TODO: licence"
    hardware: str = "TODO: hardware on which the system runs"
    training_data: str = "TODO: training data and provenance"
    evaluation_data: str = "TODO: evaluation data"
    out_of_scope_uses: str = "TODO: uses the system is not designed for"
    limitations: str = "TODO: known limitations"
    human_oversight: str = "TODO: human oversight measures"
    metrics: dict[str, float] = {}


class ItemAssessment(Strict):
    item: ChecklistItem
    requirement_id: str
    status: Status
    evidence: str


class RequirementScore(Strict):
    id: str
    title: str
    cites: str
    score: float | None  # None when every item is not applicable


class ConformityAssessment(Strict):
    items: tuple[ItemAssessment, ...]
    requirements: tuple[RequirementScore, ...]
    overall: float
    disclaimer: str = DISCLAIMER

    @property
    def gaps(self) -> list[ItemAssessment]:
        return [a for a in self.items if a.status in (Status.todo, Status.partial)]

    @property
    def ready(self) -> bool:
        return not self.gaps


@cache
def load_checklist(path: Path = CHECKLIST_PATH) -> ConformityChecklist:
    return ConformityChecklist.model_validate(load_yaml(path))


def assess(
    answers: Mapping[str, Any] | str | None,
    evidence: Mapping[str, str] | str | None = None,
    checklist: ConformityChecklist | None = None,
) -> ConformityAssessment:
    """Score answers as done=1, in progress=0.5, not started=0; not-applicable items are left out of the mean."""
    checklist = checklist or load_checklist()
    statuses = checklist.as_questionnaire().complete_answers(answers)
    notes = parse_answers(evidence)
    unknown = sorted(set(notes) - set(statuses))
    if unknown:
        raise ValueError(f"evidence for unknown checklist items: {unknown}")
    items = tuple(
        ItemAssessment(item=i, requirement_id=r.id, status=Status(statuses[i.id]), evidence=notes.get(i.id, ""))
        for r in checklist.requirements
        for i in r.items
    )
    scores = []
    for r in checklist.requirements:
        credits = [_STATUS_CREDIT[a.status] for a in items if a.requirement_id == r.id and a.status in _STATUS_CREDIT]
        scores.append(
            RequirementScore(id=r.id, title=r.title, cites=r.cites, score=sum(credits) / len(credits) if credits else None)
        )
    all_credits = [_STATUS_CREDIT[a.status] for a in items if a.status in _STATUS_CREDIT]
    overall = sum(all_credits) / len(all_credits) if all_credits else 1.0
    return ConformityAssessment(items=items, requirements=tuple(scores), overall=overall)


def technical_documentation(
    system: SystemDescription, assessment: ConformityAssessment, checklist: ConformityChecklist | None = None
) -> str:
    """Markdown skeleton with the Annex IV headings, each pre-filled with the checklist evidence that belongs there."""
    checklist = checklist or load_checklist()
    by_section = {
        s.id: [a for a in assessment.items if any(ref.split("(")[0] == s.id for ref in a.item.annex_iv)]
        for s in checklist.annex_iv
    }
    return _TEMPLATES.get_template("technical_documentation.md.j2").render(
        system=system,
        checklist=checklist,
        assessment=assessment,
        by_section=by_section,
        status_labels={s.value: label for s, label in STATUS_LABELS.items()},
        today=dt.date.today().isoformat(),
    )


def model_card(system: SystemDescription, assessment: ConformityAssessment | None = None) -> str:
    """Model card (Mitchell et al., 2019 headings) so deployers get the Art. 13 information in a familiar form."""
    return _TEMPLATES.get_template("model_card.md.j2").render(
        system=system, assessment=assessment, disclaimer=DISCLAIMER, today=dt.date.today().isoformat()
    )
