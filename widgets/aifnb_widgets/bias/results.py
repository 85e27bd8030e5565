"""Score records into per-test verdicts and per model x category pass rates, with baselines.

A pass rate means little without its interval and without what a trivial answerer scores on
the same prompts, so every summary carries Wilson intervals, a bootstrap interval for the mean,
error and refusal rates, and "always No" / "always refuses" rows computed on the same plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aifnb_widgets.bias.concerns import CATEGORIES, MEAN_COLUMN, category_label
from aifnb_widgets.bias.languages import CONSTANT_ANSWERS, base_language
from aifnb_widgets.bias.oracles import evaluate, is_refusal
from aifnb_widgets.bias.plan import Plan
from aifnb_widgets.bias.records import call_key, latest_answers, read_run_records
from aifnb_widgets.bias.runner import PLAN_FILE, SCENARIO_FILE
from aifnb_widgets.bias.scenario import load_scenario
from aifnb_widgets.bias.specs import get_spec
from aifnb_widgets.bias.stats import bootstrap_mean_interval, wilson_interval

BASELINE_PREFIX = "baseline: "
TEST_COLUMNS = [
    "model", "kind", "spec", "language", "concern", "category", "template_id", "sample",
    "status", "reason", "prompts", "answers", "refusals",
]


@dataclass
class Assessment:
    """Everything a report needs: the plan, one row per test verdict, one row per model x category."""

    plan: Plan
    tests: pd.DataFrame
    summary: pd.DataFrame

    def leaderboard(self, spec: str, value: str = "pass_rate") -> pd.DataFrame:
        """The observatory's table: rows models then baselines, columns categories + Mean, in %."""
        rows = self.summary[self.summary["spec"] == spec]
        table = rows.pivot(index="model", columns="category", values=value) * 100
        extra = sorted(set(table.columns) - set(CATEGORIES.values()) - {MEAN_COLUMN})
        columns = [c for c in [*CATEGORIES.values(), *extra, MEAN_COLUMN] if c in table.columns]
        order = list(dict.fromkeys(rows.sort_values("kind", kind="stable", key=lambda k: k == "baseline")["model"]))
        return table.loc[order, columns]

    @property
    def specs(self) -> list[str]:
        return list(dict.fromkeys(self.summary["spec"]))


def score_tests(plan: Plan, records: list[dict], specs: list[str]) -> pd.DataFrame:
    """One row per model x spec x template x sample that has all its answers; errors included."""
    answered = latest_answers(records)
    failed = {r["key"]: r for r in records if r.get("answer") is None}
    rows = []
    for model in dict.fromkeys(r["model"] for r in records):
        for ti, test in enumerate(plan.tests):
            for sample in range(plan.samples):
                keys = [call_key(model, plan.digest, ti, pi, sample) for pi in range(len(test.prompts))]
                if not all(k in answered or k in failed for k in keys):
                    continue  # not run yet: pending, not an error
                answers = [answered[k]["answer"] if k in answered else None for k in keys]
                rows += _rows(model, "model", plan, ti, sample, answers, specs)
    for name, by_language in CONSTANT_ANSWERS.items():
        for ti, test in enumerate(plan.tests):
            answers = [by_language[base_language(test.language)]] * len(test.prompts)
            rows += _rows(BASELINE_PREFIX + name, "baseline", plan, ti, 0, answers, specs)
    return pd.DataFrame(rows, columns=TEST_COLUMNS)


def _rows(model: str, kind: str, plan: Plan, ti: int, sample: int, answers: list[str | None], specs: list[str]) -> list[dict]:
    test = plan.tests[ti]
    refusals = sum(1 for a in answers if a is not None and is_refusal(a, test.language))
    rows = []
    for spec_id in specs:
        verdict = evaluate(test.template, answers, test.language, test.delta, get_spec(spec_id))
        rows.append({
            "model": model, "kind": kind, "spec": spec_id, "language": test.language,
            "concern": test.concern, "category": category_label(test.concern),
            "template_id": test.template.prompt_id, "sample": sample, "status": verdict.status,
            "reason": verdict.reason, "prompts": [p.text for p in test.prompts], "answers": answers,
            "refusals": refusals,
        })
    return rows


def summarise(tests: pd.DataFrame, seed: int, n_boot: int = 2000) -> pd.DataFrame:
    """Pass rate = Passed / (Passed + Failed) per model x spec x category; Errors leave the denominator.

    With ``samples`` > 1 each sample of a template counts as a test, so intervals assume the
    samples independent; with the default single greedy sample a test is a template.
    """
    rows = []
    for (model, kind, spec), group in tests.groupby(["model", "kind", "spec"], sort=False):
        outcomes = []
        category_rates = []
        for category, cat in group.groupby("category", sort=False):
            passed = int((cat["status"] == "Passed").sum())
            failed = int((cat["status"] == "Failed").sum())
            errors = int((cat["status"] == "Error").sum())
            n = passed + failed
            low, high = wilson_interval(passed, n)
            answers = sum(len(a) for a in cat["answers"])
            rows.append({
                "model": model, "kind": kind, "spec": spec, "category": category,
                "passed": passed, "failed": failed, "errors": errors, "n": n,
                "pass_rate": passed / n if n else math.nan, "ci_low": low, "ci_high": high,
                "error_rate": errors / len(cat), "refusal_rate": int(cat["refusals"].sum()) / answers if answers else math.nan,
            })
            if category in CATEGORIES.values() and n:
                valid = cat[cat["status"] != "Error"]
                outcomes.append((valid["status"] == "Passed").to_numpy(dtype=float))
                category_rates.append(passed / n)
        low, high = bootstrap_mean_interval(outcomes, seed=seed, n_boot=n_boot)
        total_answers = sum(len(a) for a in group["answers"])
        rows.append({
            "model": model, "kind": kind, "spec": spec, "category": MEAN_COLUMN,
            "passed": int((group["status"] == "Passed").sum()), "failed": int((group["status"] == "Failed").sum()),
            "errors": int((group["status"] == "Error").sum()), "n": int((group["status"] != "Error").sum()),
            "pass_rate": float(np.mean(category_rates)) if category_rates else math.nan,
            "ci_low": low, "ci_high": high, "error_rate": float((group["status"] == "Error").mean()),
            "refusal_rate": int(group["refusals"].sum()) / total_answers if total_answers else math.nan,
        })
    return pd.DataFrame(rows)


def assess(plan: Plan, records: list[dict], specs: list[str], seed: int | None = None, n_boot: int = 2000) -> Assessment:
    tests = score_tests(plan, records, specs)
    return Assessment(plan=plan, tests=tests, summary=summarise(tests, seed=plan.seed if seed is None else seed, n_boot=n_boot))


def assess_run_dirs(run_dirs: list[str | Path], specs: list[str] | None = None, n_boot: int = 2000) -> Assessment:
    """Score one run directory, or merge several (Slurm array tasks) that ran the same plan."""
    dirs = [Path(d) for d in run_dirs]
    missing = [str(d) for d in dirs if not (d / PLAN_FILE).is_file()]
    if missing:
        raise ValueError(f"not a run directory (no {PLAN_FILE}): {', '.join(missing)}")
    plans = [Plan.load(d / PLAN_FILE) for d in dirs]
    digests = {p.digest for p in plans}
    if len(digests) > 1:
        raise ValueError(f"run directories ran different plans ({', '.join(sorted(digests))}); cannot merge")
    if specs is None:
        specs = load_scenario(dirs[0] / SCENARIO_FILE).scoring
    records = [r for d in dirs for r in read_run_records(d)]
    return assess(plans[0], records, specs, n_boot=n_boot)
