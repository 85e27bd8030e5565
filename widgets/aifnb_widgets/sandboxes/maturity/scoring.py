"""AI-maturity scoring per dimension and the Factory service to turn to next.

Dimensions, scale and recommendations are data (``maturity_model.yaml``) so the Factory's service team can
tune the advice without code changes. A next step may name notebooks by their catalogue path; they are checked
against the notebook catalogue, so the assessment never recommends a course that does not exist, and the
links, titles and minutes shown come from the catalogue entry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from aifnb_hub.catalogue import Catalogue, load_catalogue
from aifnb_widgets.sandboxes.questionnaire import Option, Question, QuestionKind, Questionnaire
from aifnb_widgets.sandboxes.validated_data import Strict, load_yaml

MODEL_PATH = Path(__file__).with_name("maturity_model.yaml")


class Level(Strict):
    min_score: float = Field(ge=0, le=100)
    label: str


class Service(Strict):
    label: str
    description: str


class MaturityItem(Strict):
    id: str
    text: str


class NextStep(Strict):
    below: float | None = None
    service: str
    text: str
    notebooks: tuple[str, ...] = ()  # catalogue paths, e.g. courses/05-eu-ai-act-for-practitioners.ipynb


class NotebookLink(Strict):
    """A recommended notebook as the catalogue describes it; ``path`` is relative to the notebooks folder."""

    path: str
    title: str
    minutes: int

    def href(self, from_folder: str = "sandboxes") -> str:
        """In a hub session, the hub's link that opens the notebook (starting the right session when
        none runs, e.g. from an exported page); elsewhere the relative link from a notebook in
        ``from_folder``, which JupyterLab resolves in the user's copy."""
        base = os.environ.get("JUPYTERHUB_BASE_URL")
        if base:
            return f"{base.rstrip('/')}/hub/aifnb/open/{self.path}"
        return f"../{self.path}" if from_folder else self.path


class Dimension(Strict):
    id: str
    title: str
    questions: tuple[MaturityItem, ...] = Field(min_length=1)
    next_steps: tuple[NextStep, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _last_step_catches_all(self) -> Dimension:
        if self.next_steps[-1].below is not None:
            raise ValueError(f"dimension {self.id}: the last next step must have no 'below' bound")
        return self


class MaturityModel(Strict):
    title: str
    levels: tuple[Level, ...] = Field(min_length=1)
    services: dict[str, Service]
    scale: tuple[Option, ...] = Field(min_length=2)
    dimensions: tuple[Dimension, ...] = Field(min_length=3)

    @model_validator(mode="after")
    def _consistent(self) -> MaturityModel:
        if self.levels[0].min_score != 0 or list(self.levels) != sorted(self.levels, key=lambda lv: lv.min_score):
            raise ValueError("levels must start at 0 and increase")
        if any(o.score is None for o in self.scale):
            raise ValueError("every scale option needs a score")
        unknown = {s.service for d in self.dimensions for s in d.next_steps} - set(self.services)
        if unknown:
            raise ValueError(f"next steps name unknown services: {sorted(unknown)}")
        self.as_questionnaire()  # duplicate question ids fail here
        return self

    @property
    def max_option_score(self) -> int:
        return max(o.score for o in self.scale)

    def as_questionnaire(self) -> Questionnaire:
        return Questionnaire(
            title=self.title,
            questions=tuple(
                Question(id=q.id, text=q.text, kind=QuestionKind.single, options=self.scale, help=d.title)
                for d in self.dimensions
                for q in d.questions
            ),
        )

    def level(self, score: float) -> str:
        return [lv.label for lv in self.levels if score >= lv.min_score][-1]


class DimensionScore(Strict):
    id: str
    title: str
    score: float = Field(ge=0, le=100)
    level: str
    service: str
    service_label: str
    next_step: str
    notebooks: tuple[NotebookLink, ...] = ()


class MaturityResult(Strict):
    dimensions: tuple[DimensionScore, ...]
    overall: float = Field(ge=0, le=100)
    overall_level: str

    def as_dict(self) -> dict[str, float]:
        return {d.id: d.score for d in self.dimensions}


@cache
def load_maturity_model(path: Path = MODEL_PATH) -> MaturityModel:
    return MaturityModel.model_validate(load_yaml(path))


def notebook_links(model: MaturityModel, catalogue: Catalogue) -> dict[str, NotebookLink]:
    """Every notebook the model recommends, resolved in the catalogue; an unknown path is an error naming it."""
    wanted = {nb for d in model.dimensions for step in d.next_steps for nb in step.notebooks}
    known = set(catalogue.paths())
    missing = sorted(wanted - known)
    if missing:
        raise ValueError(f"the maturity model recommends notebooks that are not in the catalogue: {missing}")
    return {
        path: NotebookLink(path=path, title=(e := catalogue.get(path)).title, minutes=e.duration_minutes)
        for path in sorted(wanted)
    }


def score_maturity(
    answers: Mapping[str, Any] | str | None, model: MaturityModel | None = None, catalogue: Catalogue | None = None
) -> MaturityResult:
    """Dimension score = mean answer as a percentage of the top of the scale; the overall score is their mean."""
    model = model or load_maturity_model()
    links = notebook_links(model, catalogue or load_catalogue())
    complete = model.as_questionnaire().complete_answers(answers)
    points = {o.id: o.score for o in model.scale}
    dims = []
    for d in model.dimensions:
        score = 100 * sum(points[complete[q.id]] for q in d.questions) / (len(d.questions) * model.max_option_score)
        step = next(s for s in d.next_steps if s.below is None or score < s.below)
        dims.append(
            DimensionScore(
                id=d.id,
                title=d.title,
                score=score,
                level=model.level(score),
                service=step.service,
                service_label=model.services[step.service].label,
                next_step=step.text,
                notebooks=tuple(links[nb] for nb in step.notebooks),
            )
        )
    overall = sum(d.score for d in dims) / len(dims)
    return MaturityResult(dimensions=tuple(dims), overall=overall, overall_level=model.level(overall))
