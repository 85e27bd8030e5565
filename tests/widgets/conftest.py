"""Fixtures of the bias-assessment tests: tiny real checkpoints and scripted backends.

Session-scoped and opt-in (nothing autouse), so the sandbox and teaching tests beside these
are unaffected.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aifnb_widgets.bias.plan import Plan, build_plan
from aifnb_widgets.bias.scenario import Scenario, default_scenario


class ScriptedBackend:
    """Answers by rule, counts calls: pass rates follow from the rule and the plan exactly."""

    def __init__(self, rule: Callable[[str], str] | str, model_id: str = "scripted"):
        self.rule = rule if callable(rule) else (lambda prompt: rule)
        self.model_id = model_id
        self.revision = "test"
        self.calls: list[str] = []
        self.batches = 0

    def generate(self, prompts: list[str]) -> list[str]:
        self.batches += 1
        self.calls += prompts
        return [self.rule(p) for p in prompts]


@pytest.fixture
def scripted():
    return ScriptedBackend


@pytest.fixture(scope="session")
def small_scenario() -> Scenario:
    """All seven concerns, English and French, three templates each: 42 tests, ~150 prompts."""
    return default_scenario(languages=["en", "fr"], n_templates=3, seed=0)


@pytest.fixture(scope="session")
def small_plan(small_scenario) -> Plan:
    return build_plan(small_scenario)


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory):
    from aifnb_widgets.models.tiny import build_tiny_causal_lm

    return build_tiny_causal_lm(tmp_path_factory.mktemp("models") / "gpt2", seed=1)


@pytest.fixture(scope="session")
def tiny_t5_dir(tmp_path_factory):
    from aifnb_widgets.models.tiny import build_tiny_seq2seq

    return build_tiny_seq2seq(tmp_path_factory.mktemp("models") / "t5", seed=1)


@pytest.fixture(scope="session")
def always_no_dir(tmp_path_factory, small_plan):
    """A GPT-2-style model trained to answer "No." to the prompts of the English tests."""
    from aifnb_widgets.models.tiny import build_tiny_causal_lm, train_constant_answer

    path = build_tiny_causal_lm(tmp_path_factory.mktemp("models") / "always_no", seed=2)
    prompts = [p.text for t in small_plan.tests for p in t.prompts]
    return train_constant_answer(path, prompts, answer="No.")
