"""Trivial answerers scored on the same plan as every model: the floor a real model must beat.

A pass rate only means something beside what a model with no understanding scores on the same
prompts. These six cover the ways a library or a spec can be gamed: a fixed yes, a fixed no
(libraries that mostly reward one of them), a refusal and an empty answer (specs that drop what
they cannot read), a constant JSON object (specs where unreadable answers leave the
denominator) and a seeded coin (libraries where chance alone scores).
"""

from __future__ import annotations

import random

from aifnb_widgets.bias.languages import BASELINE_WORDS, base_language
from aifnb_widgets.bias.library import SAME_VALUE_OPERATIONS
from aifnb_widgets.bias.plan import PlannedTest

BASELINE_PREFIX = "baseline: "
CONSTANT_JSON = '{"probability": 50}'
BASELINES: tuple[str, ...] = (
    "always No",
    "always Yes",
    "always refuses",
    "constant JSON",
    "empty answer",
    "random answer",
)


def baseline_answers(name: str, test: PlannedTest, seed: int) -> list[str]:
    """The answers of baseline ``name`` to every filled prompt of ``test``, in the test's language."""
    language = base_language(test.language)
    n = len(test.prompts)
    if name == "always No":
        return [BASELINE_WORDS["no"][language]] * n
    if name == "always Yes":
        return [BASELINE_WORDS["yes"][language]] * n
    if name == "always refuses":
        return [BASELINE_WORDS["refusal"][language]] * n
    if name == "constant JSON":
        return [CONSTANT_JSON] * n
    if name == "empty answer":
        return [""] * n
    if name == "random answer":
        # Seeded per prompt, so a re-scored run shows the same row; JSON where JSON is asked for.
        wants_number = test.template.prediction["operation"] in SAME_VALUE_OPERATIONS
        answers = []
        for prompt in test.prompts:
            rng = random.Random(f"{seed}:{test.language}:{prompt.text}")
            if wants_number:
                answers.append(f'{{"probability": {rng.randint(0, 100)}}}')
            else:
                answers.append(BASELINE_WORDS[rng.choice(("yes", "no"))][language])
        return answers
    raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
