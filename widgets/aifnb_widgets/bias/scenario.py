"""Scenario files: LangBiTe's JSON keys, plus what a reproducible run needs beyond them.

LangBiTe leaves the template sample unseeded, never passes decoding settings to the model and
knows nothing of scoring versions; ``seed``, ``decoding``, ``samples``, ``scoring`` and
``libraries`` fill those gaps. A LangBiTe scenario without them loads unchanged.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from aifnb_widgets.bias.concerns import MARKUPS, normalise_concern
from aifnb_widgets.bias.specs import DEFAULT_SPECS, SPECS, SUPERSEDED


class ScenarioError(ValueError):
    """A scenario that cannot be run; the message names the field at fault."""


class Requirement(BaseModel):
    """One ethical requirement: a concern, its communities per language and a pass threshold."""

    model_config = ConfigDict(extra="forbid")

    name: str
    rationale: str = ""
    languages: list[str]
    tolerance: float = Field(0.9, ge=0, le=1)
    delta: float = Field(0.0, ge=0, le=1)
    concern: str
    markup: str = ""
    communities: dict[str, list[str]] = {}
    inputs: list[str] = ["constrained", "verbose"]
    reflections: list[str] = ["observational", "utopian"]

    @field_validator("concern")
    @classmethod
    def _known_concern(cls, value: str) -> str:
        return normalise_concern(value)

    @model_validator(mode="after")
    def _default_markup(self) -> Requirement:
        if not self.markup:
            self.markup = MARKUPS.get(self.concern, self.concern.upper())
        return self


class Decoding(BaseModel):
    """How answers are generated; greedy unless ``do_sample`` asks for seeded sampling."""

    model_config = ConfigDict(extra="forbid")

    do_sample: bool = False
    top_p: float = Field(1.0, gt=0, le=1)
    batch_size: int = Field(16, ge=1, le=1024)
    timeout_s: float = Field(60.0, gt=0)
    # A prompt whose call fails is retried nRetries times, after backoff_s, 2 x backoff_s, ...
    backoff_s: float = Field(1.0, ge=0, le=600)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    timestamp: int | None = None
    n_templates: int = Field(15, alias="nTemplates", ge=1)
    n_retries: int = Field(1, alias="nRetries", ge=0)
    temperature: float = Field(1.0, ge=0, le=2)
    tokens: int = Field(60, ge=1, le=4096)
    # Read so LangBiTe files load; scores stay rule-based. A judge model re-reads failed answers
    # only when asked (``aifnb bias judge``), and its verdicts are kept apart (see judge.py).
    use_llm_eval: bool = Field(False, alias="useLLMEval")
    ai_models: list[str] = Field([], alias="aiModels")
    requirements: list[Requirement] = Field(min_length=1)
    seed: int = 0
    samples: int = Field(1, ge=1, le=100)
    decoding: Decoding = Decoding()
    scoring: list[str] = DEFAULT_SPECS
    libraries: dict[str, str] = {}
    # LangBiTe samples nTemplates per concern x language x input x reflection; "per-concern"
    # samples per concern x language (the built-in scenario's choice: a small, even sample).
    sampling: Literal["langbite", "per-concern"] = "langbite"

    @field_validator("scoring")
    @classmethod
    def _known_specs(cls, value: list[str]) -> list[str]:
        value = list(dict.fromkeys(SUPERSEDED.get(v, v) for v in value))
        unknown = [v for v in value if v not in SPECS]
        if unknown or not value:
            raise ValueError(f"unknown scoring spec(s) {unknown}; known: {', '.join(SPECS)}")
        return value

    @model_validator(mode="after")
    def _samples_need_sampling(self) -> Scenario:
        if self.samples > 1 and not self.decoding.do_sample:
            raise ValueError("samples > 1 repeats identical greedy answers; set decoding.do_sample to true")
        return self

    @property
    def languages(self) -> list[str]:
        return list(dict.fromkeys(lang for req in self.requirements for lang in req.languages))

    @property
    def effective_temperature(self) -> float:
        """Greedy decoding is temperature 0, whatever the LangBiTe field says."""
        return self.temperature if self.decoding.do_sample else 0.0

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"scenario file {path} does not exist")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"scenario file {path} is not JSON: {exc}") from None
    return parse_scenario(data, source=str(path))


def parse_scenario(data: dict, source: str = "scenario") -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors())
        raise ScenarioError(f"{source}: {problems}") from None


def default_scenario(
    languages: list[str] | None = None,
    concerns: list[str] | None = None,
    n_templates: int | None = None,
    seed: int | None = None,
    models: list[str] | None = None,
) -> Scenario:
    """The built-in scenario (seven concerns, en/fr/de communities), narrowed as asked."""
    data = json.loads((resources.files("aifnb_widgets.bias") / "data" / "default_scenario.json").read_text("utf-8"))
    scenario = parse_scenario(data, source="built-in scenario")
    updates: dict = {}
    if concerns is not None:
        wanted = [normalise_concern(c) for c in concerns]
        updates["requirements"] = [r for r in scenario.requirements if r.concern in wanted]
        if not updates["requirements"]:
            raise ScenarioError("no concern selected")
    if languages is not None:
        if not languages:
            raise ScenarioError("no language selected")
        requirements = updates.get("requirements", scenario.requirements)
        updates["requirements"] = [r.model_copy(update={"languages": list(languages)}) for r in requirements]
    for key, value in (("n_templates", n_templates), ("seed", seed), ("ai_models", models)):
        if value is not None:
            updates[key] = value
    merged = scenario.model_copy(update=updates)
    return parse_scenario(json.loads(merged.to_json()), source="built-in scenario")
