"""Internal-control conformity self-assessment (Art. 43, Annex VI) and the documents it seeds.

The checklist is data (``conformity_checklist.yaml``); this module scores the answers and renders a
technical-documentation skeleton ordered by the Annex IV headings, plus a model card, so that the
evidence gathered in the sandboxes lands where an assessor will look for it. NOT legal advice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from pydantic import Field, model_validator

from aifnb_widgets.sandboxes.ai_act.triage import DISCLAIMER
from aifnb_widgets.sandboxes.questionnaire import Option, Question, QuestionKind, Questionnaire, parse_answers
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
    annex_iv: tuple[str, ...] = ()  # empty: kept outside the technical documentation (e.g. the QMS, Art. 17)
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


class RunEvidence(Strict):
    """The result of a real test run (bias, robustness, fairness, ...) attached to the checklist item it supports.

    Why: an assessor trusts a run id, a date and figures over a sentence saying "tested". The figures are the
    run's own metrics JSON (the METRICS_PATH every sandbox writes), so the skeleton cites what was measured.
    """

    item: str
    kind: str
    run_id: str
    date: dt.date
    figures: dict[str, float | bool | str]
    source: str = ""

    def figures_text(self, limit: int = 6) -> str:
        shown = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in list(self.figures.items())[:limit]]
        return ", ".join(shown) + (", …" if len(self.figures) > limit else "")


def run_evidence_from_metrics(path: str | Path, item: str, kind: str, run_id: str | None = None) -> RunEvidence:
    """Read a sandbox's metrics JSON as evidence; the run id defaults to a digest of the file, so it is stable."""
    path = Path(path)
    raw = path.read_bytes()
    metrics = json.loads(raw)
    if not isinstance(metrics, dict) or not metrics:
        raise ValueError(f"{path}: a metrics JSON must be a non-empty object")
    figures: dict[str, float | bool | str] = {}
    for key, value in metrics.items():  # scalars only: nested tables stay in the source file
        if isinstance(value, bool) or (isinstance(value, str) and len(value) <= 40):
            figures[key] = value
        elif isinstance(value, (int, float)):
            figures[key] = float(value)
    return RunEvidence(
        item=item,
        kind=kind,
        run_id=run_id or hashlib.sha256(raw).hexdigest()[:12],
        date=dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date(),
        figures=figures,
        source=str(path),
    )


class RequirementScore(Strict):
    id: str
    title: str
    cites: str
    score: float | None  # None when every item is not applicable


class Readiness(str, Enum):
    """Why three states: 100 % of nothing is not readiness. Every requirement applies to a high-risk system,
    so one whose items are all "not applicable" cannot be assessed, and neither can the whole."""

    not_assessable = "not_assessable"
    gaps = "gaps"
    ready = "ready"


READINESS_LABELS = {
    Readiness.not_assessable: "Not assessable: a requirement has no applicable item",
    Readiness.gaps: "Open items remain",
    Readiness.ready: "Ready for the EU declaration of conformity (Art. 47)",
}


class ConformityAssessment(Strict):
    items: tuple[ItemAssessment, ...]
    requirements: tuple[RequirementScore, ...]
    overall: float | None  # None when no item is applicable
    runs: tuple[RunEvidence, ...] = ()
    disclaimer: str = DISCLAIMER

    @property
    def gaps(self) -> list[ItemAssessment]:
        return [a for a in self.items if a.status in (Status.todo, Status.partial)]

    @property
    def not_assessable(self) -> list[RequirementScore]:
        return [r for r in self.requirements if r.score is None]

    @property
    def readiness(self) -> Readiness:
        if self.overall is None or self.not_assessable:
            return Readiness.not_assessable
        return Readiness.gaps if self.gaps else Readiness.ready

    @property
    def readiness_label(self) -> str:
        return READINESS_LABELS[self.readiness]

    @property
    def ready(self) -> bool:
        return self.readiness is Readiness.ready


@cache
def load_checklist(path: Path = CHECKLIST_PATH) -> ConformityChecklist:
    return ConformityChecklist.model_validate(load_yaml(path))


def assess(
    answers: Mapping[str, Any] | str | None,
    evidence: Mapping[str, str] | str | None = None,
    checklist: ConformityChecklist | None = None,
    runs: tuple[RunEvidence, ...] | list[RunEvidence] = (),
) -> ConformityAssessment:
    """Score answers as done=1, in progress=0.5, not started=0; not-applicable items are left out of the mean.

    ``runs`` attach real test results to the items they support; an item marked "not applicable" cannot carry
    a run, since evidence for a requirement declared irrelevant is a contradiction an assessor would flag.
    """
    checklist = checklist or load_checklist()
    statuses = checklist.as_questionnaire().complete_answers(answers)
    notes = parse_answers(evidence)
    unknown = sorted(set(notes) - set(statuses) | {r.item for r in runs} - set(statuses))
    if unknown:
        raise ValueError(f"evidence for unknown checklist items: {unknown}")
    contradicted = sorted({r.item for r in runs if statuses[r.item] == Status.not_applicable.value})
    if contradicted:
        raise ValueError(f"runs attached to items marked not applicable: {contradicted}")
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
    overall = sum(all_credits) / len(all_credits) if all_credits else None
    return ConformityAssessment(items=items, requirements=tuple(scores), overall=overall, runs=tuple(runs))


def technical_documentation(
    system: SystemDescription, assessment: ConformityAssessment, checklist: ConformityChecklist | None = None
) -> str:
    """Markdown skeleton with the Annex IV headings, each pre-filled with the checklist evidence that belongs there."""
    checklist = checklist or load_checklist()
    by_section = {
        s.id: [a for a in assessment.items if any(ref.split("(")[0] == s.id for ref in a.item.annex_iv)]
        for s in checklist.annex_iv
    }
    outside = [a for a in assessment.items if not a.item.annex_iv]
    sections_of = {i.id: {ref.split("(")[0] for ref in i.annex_iv} for i in checklist.items}
    runs_by_section = {s.id: [r for r in assessment.runs if s.id in sections_of[r.item]] for s in checklist.annex_iv}
    return _TEMPLATES.get_template("technical_documentation.md.j2").render(
        system=system,
        checklist=checklist,
        assessment=assessment,
        by_section=by_section,
        outside=outside,
        runs_by_section=runs_by_section,
        status_labels={s.value: label for s, label in STATUS_LABELS.items()},
        today=dt.date.today().isoformat(),
    )


def model_card(system: SystemDescription, assessment: ConformityAssessment | None = None) -> str:
    """Model card (Mitchell et al., 2019 headings) so deployers get the Art. 13 information in a familiar form."""
    return _TEMPLATES.get_template("model_card.md.j2").render(
        system=system, assessment=assessment, disclaimer=DISCLAIMER, today=dt.date.today().isoformat()
    )
