"""Turn a scenario into the exact list of prompts to send: sampled templates, filled placeholders.

The plan is written next to the records of a run, so a run can be re-scored, resumed or merged
without the library files or the model, and two Slurm tasks can check they ran the same plan.
"""

from __future__ import annotations

import hashlib
import random
from functools import cached_property
from itertools import permutations
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from aifnb_widgets.bias.languages import DELIMITER_SENTENCE, base_language
from aifnb_widgets.bias.library import (
    BUILTIN_LANGUAGES,
    PLACEHOLDER,
    PromptTemplate,
    builtin_library_path,
    read_library,
)
from aifnb_widgets.bias.scenario import Requirement, Scenario

PROMPT_DELIMITER = '"""'


class PlanError(ValueError):
    """A scenario and library that do not fit together; the message names template and field."""


class FilledPrompt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    instance: str
    text: str
    terms: list[str] = []


class PlannedTest(BaseModel):
    """One template in one language: one Passed/Failed/Error verdict once answered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str
    requirement: str
    template: PromptTemplate
    delta: float
    tolerance: float = 0.9
    prompts: list[FilledPrompt]

    @property
    def concern(self) -> str:
        return self.template.concern


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int
    samples: int
    tests: list[PlannedTest]

    @cached_property
    def digest(self) -> str:
        """Identity of the plan, computed once: it keys every record, so it is read per call."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]

    @property
    def n_calls(self) -> int:
        return self.samples * sum(len(t.prompts) for t in self.tests)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.model_dump_json(indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Plan:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))


def load_libraries(scenario: Scenario) -> dict[str, list[PromptTemplate]]:
    """The library of every scenario language: the scenario's own file, else the built-in one."""
    libraries = {}
    for language in scenario.languages:
        if language in scenario.libraries:
            libraries[language] = read_library(scenario.libraries[language])
        elif language in BUILTIN_LANGUAGES:
            libraries[language] = read_library(builtin_library_path(language))
        else:
            raise PlanError(
                f"no prompt library for language {language!r}: built-in languages are "
                f"{', '.join(BUILTIN_LANGUAGES)}; add a file for it under 'libraries' in the scenario"
            )
    return libraries


def build_plan(scenario: Scenario, libraries: dict[str, list[PromptTemplate]] | None = None) -> Plan:
    libraries = load_libraries(scenario) if libraries is None else libraries
    tests = []
    for requirement in scenario.requirements:
        for language in requirement.languages:
            templates = [
                t
                for t in libraries[language]
                if t.concern == requirement.concern
                and t.input_type in requirement.inputs
                and t.reflection_type in requirement.reflections
            ]
            if not templates:
                raise PlanError(
                    f"requirement {requirement.name}: the {language!r} library has no template for concern "
                    f"{requirement.concern!r} with inputs {requirement.inputs} and reflections {requirement.reflections}"
                )
            for template in _sample(templates, scenario, requirement, language):
                tests.append(
                    PlannedTest(
                        language=language,
                        requirement=requirement.name,
                        template=template,
                        delta=requirement.delta,
                        tolerance=requirement.tolerance,
                        prompts=_fill(template, requirement, language),
                    )
                )
    return Plan(seed=scenario.seed, samples=scenario.samples, tests=tests)


def _sample(templates: list[PromptTemplate], scenario: Scenario, requirement: Requirement, language: str) -> list[PromptTemplate]:
    """``nTemplates`` templates, seeded, in library order.

    ``sampling: "langbite"`` draws them per concern x language x input type x reflection type,
    as LangBiTe does; ``"per-concern"`` draws them per concern x language.
    """
    if scenario.sampling == "per-concern":
        cells = [("", "", templates)]
    else:
        cells = [
            (i, r, [t for t in templates if t.input_type == i and t.reflection_type == r])
            for i in requirement.inputs
            for r in requirement.reflections
        ]
    chosen: set[int] = set()
    positions = {id(t): n for n, t in enumerate(templates)}
    for input_type, reflection, cell in cells:
        rng = random.Random(
            f"{scenario.seed}:{requirement.concern}:{language}" + (f":{input_type}:{reflection}" if input_type else "")
        )
        chosen |= {positions[id(cell[k])] for k in rng.sample(range(len(cell)), min(scenario.n_templates, len(cell)))}
    return [templates[k] for k in sorted(chosen)]


def _fill(template: PromptTemplate, requirement: Requirement, language: str) -> list[FilledPrompt]:
    """Every ordered combination of distinct community terms, one prompt each (LangBiTe's rule)."""
    found = sorted({(m.group(0), m.group(1)) for m in PLACEHOLDER.finditer(template.prompt)})
    foreign = [whole for whole, root in found if root != requirement.markup]
    if foreign:
        raise PlanError(
            f"template {template.prompt_id} ({language}) uses placeholder(s) {', '.join(foreign)} but requirement "
            f"{requirement.name} fills only {{{requirement.markup}}}"
        )
    markups = [whole for whole, _ in found]
    if not markups:
        instances, combos = [template.prompt], [()]
    else:
        terms = requirement.communities.get(language, [])
        if len(set(terms)) < len(markups):
            raise PlanError(
                f"template {template.prompt_id} ({language}) has placeholder(s) {', '.join(markups)} but requirement "
                f"{requirement.name} gives {len(set(terms))} community term(s) for language {language!r}"
            )
        instances, combos = [], list(permutations(dict.fromkeys(terms), len(markups)))
        for combo in combos:
            instance = template.prompt
            for markup, term in zip(markups, combo):
                instance = instance.replace(markup, term)
            instances.append(instance)
    return [
        FilledPrompt(instance=i, text=compose_prompt(template, i, language), terms=list(combo))
        for i, combo in zip(instances, combos)
    ]


def compose_prompt(template: PromptTemplate, instance: str, language: str) -> str:
    """The text LangBiTe sends: optional task prefix, the delimited sentence, the output format."""
    if template.task_prefix:
        delimiter = DELIMITER_SENTENCE[base_language(language)]
        head = f"{template.task_prefix} {delimiter} {PROMPT_DELIMITER}. {PROMPT_DELIMITER}{instance}{PROMPT_DELIMITER}."
    else:
        head = instance
    return f"{head} {template.output_formatting}".strip()
