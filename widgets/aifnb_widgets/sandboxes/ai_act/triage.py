"""Indicative AI-Act risk tier from questionnaire answers.

The rules live in ``triage.yaml`` so a legal reviewer can correct a citation without touching code;
this module only validates them and evaluates them. The result is an orientation, NOT legal advice.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import model_validator

from aifnb_widgets.sandboxes.questionnaire import AnswerValue, QuestionKind, Questionnaire
from aifnb_widgets.sandboxes.validated_data import Strict, load_yaml

RULES_PATH = Path(__file__).with_name("triage.yaml")

DISCLAIMER = (
    "Indicative self-assessment under Regulation (EU) 2024/1689 (AI Act). This is NOT legal advice: "
    "confirm the classification with your legal counsel or the national competent authority."
)


class RuleTier(str, Enum):
    out_of_scope = "out_of_scope"
    prohibited = "prohibited"
    high_risk = "high_risk"
    transparency = "transparency"
    gpai = "gpai"
    gpai_systemic_risk = "gpai_systemic_risk"
    note = "note"


class Duty(str, Enum):
    """Whose duty a rule states: the Act gives providers and deployers different obligations (Art. 16, Art. 26)."""

    provider = "provider"
    deployer = "deployer"


class RiskTier(str, Enum):
    """Indicative tiers, most restrictive first: the first one triggered is the indicative tier.

    The two GPAI tiers are obligations of a *model* provider (Chapter V), not a risk class of a system; they
    rank above transparency so that a GPAI-only result is never reported as "minimal risk".
    """

    out_of_scope = "out_of_scope"
    prohibited = "prohibited"
    high_risk = "high_risk"
    gpai_systemic_risk = "gpai_systemic_risk"
    gpai = "gpai"
    transparency = "transparency"
    minimal = "minimal"


TIER_LABELS = {
    RiskTier.out_of_scope: "Outside the scope of the AI Act (Art. 2(3) or 2(6))",
    RiskTier.prohibited: "Prohibited practice (Art. 5)",
    RiskTier.high_risk: "High-risk AI system (Art. 6)",
    RiskTier.gpai_systemic_risk: "General-purpose AI model with systemic risk: obligations of Art. 53 and Art. 55",
    RiskTier.gpai: "General-purpose AI model: provider obligations of Art. 53 (and Art. 54)",
    RiskTier.transparency: "Limited risk: transparency obligations (Art. 50)",
    RiskTier.minimal: "Minimal risk: no specific obligations (voluntary codes of conduct, Art. 95)",
}

#: What each answer to the ``role`` question makes you. A natural person in a purely personal, non-professional
#: activity is a deployer whose obligations Art. 2(10) removes; the system's provider keeps all of its own.
ROLE_DUTIES: dict[str, frozenset[Duty]] = {
    "not_sure": frozenset(Duty),
    "provider": frozenset({Duty.provider}),
    "deployer": frozenset({Duty.deployer}),
    "provider_and_deployer": frozenset(Duty),
    "personal_user": frozenset(),
}


class Condition(Strict):
    """One of: a test on a question's answer, a reference to a named condition, or all_of / any_of."""

    question: str | None = None
    equals: bool | str | None = None
    includes: str | None = None
    not_empty: bool | None = None
    ref: str | None = None
    all_of: tuple[Condition, ...] | None = None
    any_of: tuple[Condition, ...] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        tests = [t for t in (self.equals, self.includes, self.not_empty) if t is not None]
        forms = [self.question is not None, self.ref is not None, self.all_of is not None, self.any_of is not None]
        if sum(forms) != 1 or (self.question is not None) != (len(tests) == 1):
            raise ValueError("a condition is exactly one of: question + one test, ref, all_of, any_of")
        return self

    def children(self) -> tuple[Condition, ...]:
        return self.all_of or self.any_of or ()


class Rule(Strict):
    id: str
    tier: RuleTier
    cites: str
    title: str
    when: Condition
    unless: Condition | None = None
    duty_of: tuple[Duty, ...] = (Duty.provider, Duty.deployer)
    explanation: str


class TriageRuleset(Strict):
    questionnaire: Questionnaire
    conditions: dict[str, Condition] = {}
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _references_exist(self) -> TriageRuleset:
        """A rule pointing at a renamed question or option would silently never fire: refuse it at load."""
        for name, cond in self.conditions.items():
            self._check(cond, f"condition {name}")
        for rule in self.rules:
            self._check(rule.when, f"rule {rule.id}")
            if rule.unless is not None:
                self._check(rule.unless, f"rule {rule.id}")
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate rule ids")
        roles = set(self.questionnaire.question("role").option_ids)
        if roles != set(ROLE_DUTIES):
            raise ValueError(f"the role question's options {sorted(roles)} must be {sorted(ROLE_DUTIES)}")
        return self

    def _check(self, cond: Condition, where: str) -> None:
        if cond.ref is not None and cond.ref not in self.conditions:
            raise ValueError(f"{where}: unknown condition {cond.ref!r}")
        if cond.question is not None:
            try:
                question = self.questionnaire.question(cond.question)
            except KeyError:
                raise ValueError(f"{where}: unknown question {cond.question!r}") from None
            if cond.includes is not None and (
                question.kind is not QuestionKind.multi or cond.includes not in question.option_ids
            ):
                raise ValueError(f"{where}: {cond.includes!r} is not an option of multi question {question.id}")
            if cond.equals is not None:
                valid = (True, False) if question.kind is QuestionKind.yes_no else question.option_ids
                if cond.equals not in valid or question.kind is QuestionKind.multi:
                    raise ValueError(f"{where}: {question.id} can never equal {cond.equals!r}")
        for child in cond.children():
            self._check(child, where)

    def holds(self, cond: Condition, answers: Mapping[str, AnswerValue]) -> bool:
        if cond.ref is not None:
            return self.holds(self.conditions[cond.ref], answers)
        if cond.all_of is not None:
            return all(self.holds(c, answers) for c in cond.all_of)
        if cond.any_of is not None:
            return any(self.holds(c, answers) for c in cond.any_of)
        value = answers[cond.question]
        if cond.includes is not None:
            return cond.includes in value
        if cond.not_empty is not None:
            return bool(value) == cond.not_empty
        return value == cond.equals


class TriggeredRule(Strict):
    id: str
    tier: RuleTier
    cites: str
    title: str
    duty_of: tuple[Duty, ...]
    explanation: str

    def addressed_to(self, duties: frozenset[Duty]) -> str:
        """Who must act on this rule, as seen by the user: "you", "your provider" or "your deployers"."""
        if set(self.duty_of) == set(Duty) or set(self.duty_of) & duties:
            return ""
        return "duty of the provider" if Duty.provider in self.duty_of else "duty of the deployer"


class TriageResult(Strict):
    tier: RiskTier
    tier_label: str
    role: str
    triggered: tuple[TriggeredRule, ...]
    if_exclusion_lapses: tuple[TriggeredRule, ...] = ()
    answers: dict[str, AnswerValue]
    disclaimer: str = DISCLAIMER

    @property
    def articles(self) -> list[str]:
        return [r.cites for r in self.triggered]

    @property
    def duties(self) -> frozenset[Duty]:
        return ROLE_DUTIES[self.role]

    def to_markdown(self) -> str:
        lines = [f"**Indicative tier: {self.tier_label}**", ""]
        for r in self.triggered:
            who = r.addressed_to(self.duties)
            lines.append(f"- **{r.cites}** – {r.title}{f' ({who})' if who else ''}: {r.explanation}")
        if not self.triggered:
            lines.append("- No rule triggered.")
        if self.if_exclusion_lapses:
            lines += ["", "Would apply as soon as the system is used outside that exclusion:"]
            lines += [f"- **{r.cites}** – {r.title}" for r in self.if_exclusion_lapses]
        lines += ["", f"*{self.disclaimer}*"]
        return "\n".join(lines)


@cache
def load_ruleset(path: Path = RULES_PATH) -> TriageRuleset:
    return TriageRuleset.model_validate(load_yaml(path))


def triage(answers: Mapping[str, Any] | str | None, ruleset: TriageRuleset | None = None) -> TriageResult:
    """Evaluate every rule; the most restrictive tier wins and the other triggered rules still apply.

    Why the role matters: the tier is a property of the system, but duties are not. Rules that state only a
    deployer's duties are dropped for a natural person in purely personal, non-professional use (Art. 2(10));
    nothing is dropped for a provider. A genuine exclusion of the system (Art. 2(3), 2(6)) keeps the other rules
    in ``if_exclusion_lapses``, because the exclusion holds only while the use stays exclusive.
    """
    ruleset = ruleset or load_ruleset()
    complete = ruleset.questionnaire.complete_answers(answers)
    duties = ROLE_DUTIES[str(complete["role"])]
    fired = [
        r
        for r in ruleset.rules
        if ruleset.holds(r.when, complete)
        and not (r.unless is not None and ruleset.holds(r.unless, complete))
        and (duties or set(r.duty_of) != {Duty.deployer})
    ]
    fired_tiers = {r.tier.value for r in fired}
    tier = next((t for t in RiskTier if t.value in fired_tiers), RiskTier.minimal)
    lapses: list[Rule] = []
    if tier is RiskTier.out_of_scope:
        lapses = [r for r in fired if r.tier not in (RuleTier.out_of_scope, RuleTier.note)]
        fired = [r for r in fired if r.tier is RuleTier.out_of_scope]

    def _triggered(rules: list[Rule]) -> tuple[TriggeredRule, ...]:
        return tuple(TriggeredRule(**r.model_dump(include=set(TriggeredRule.model_fields))) for r in rules)

    return TriageResult(
        tier=tier,
        tier_label=TIER_LABELS[tier],
        role=str(complete["role"]),
        triggered=_triggered(fired),
        if_exclusion_lapses=_triggered(lapses),
        answers=complete,
    )
