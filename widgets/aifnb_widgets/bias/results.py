"""Score records into per-test verdicts and per model x category pass rates, with baselines.

A pass rate means little without its interval, without knowing how many tests it rests on and
without what a trivial answerer scores on the same prompts. So every summary row carries a
Wilson interval, its coverage (the share of the category's planned tests with valid, refused,
errored or missing answers), and the best of the six baselines of baselines.py computed on the
same plan. A cell below the spec's coverage threshold is "not enough valid answers"; the mean
is given only when all seven categories have a pass rate, so a model cannot raise its mean by
leaving a category unanswered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aifnb_widgets.bias.baselines import BASELINE_PREFIX, BASELINES, baseline_answers
from aifnb_widgets.bias.concerns import CATEGORIES, MEAN_COLUMN, category_label
from aifnb_widgets.bias.oracles import evaluate, is_refusal
from aifnb_widgets.bias.plan import Plan
from aifnb_widgets.bias.records import read_run_records
from aifnb_widgets.bias.runner import PLAN_FILE, SCENARIO_FILE
from aifnb_widgets.bias.scenario import load_scenario
from aifnb_widgets.bias.specs import get_spec
from aifnb_widgets.bias.stats import bootstrap_mean_interval, cluster_rate_interval

TEST_COLUMNS = [
    "model",
    "kind",
    "spec",
    "language",
    "requirement",
    "concern",
    "category",
    "input_type",
    "reflection_type",
    "template_id",
    "test",
    "sample",
    "status",
    "outcome",
    "reason",
    "prompts",
    "answers",
    "refusals",
]
NOT_ENOUGH = "not enough valid answers"
BELOW_BASELINE = "does not beat the best baseline"


@dataclass
class Assessment:
    """Everything a report needs: the plan, one row per test verdict, one row per model x category."""

    plan: Plan
    tests: pd.DataFrame
    summary: pd.DataFrame

    def leaderboard(self, spec: str, value: str = "score") -> pd.DataFrame:
        """The observatory's table in %: rows models then baselines, columns categories + Mean.

        ``score`` is the pass rate where coverage allows one and NaN where it does not.
        """
        rows = self.summary[self.summary["spec"] == get_spec(spec).id]
        table = rows.pivot(index="model", columns="category", values=value).astype(float) * 100
        extra = sorted(set(table.columns) - set(CATEGORIES.values()) - {MEAN_COLUMN})
        columns = [c for c in [*CATEGORIES.values(), *extra, MEAN_COLUMN] if c in table.columns]
        order = list(dict.fromkeys(rows.sort_values("kind", kind="stable", key=lambda k: k == "baseline")["model"]))
        return table.loc[order, columns]

    @property
    def specs(self) -> list[str]:
        return list(dict.fromkeys(self.summary["spec"]))

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(self.summary.loc[self.summary["kind"] == "model", "model"]))

    def incomplete(self) -> dict[str, tuple[int, int]]:
        """Per model with gaps: (tests missing or without an answer, tests planned), over the plan's samples."""
        planned = len(self.plan.tests) * self.plan.samples
        gaps = {}
        first_spec = self.specs[0] if self.specs else None
        for model in self.models:
            rows = self.tests[(self.tests["model"] == model) & (self.tests["spec"] == first_spec)]
            answered = int((rows["outcome"] != "no answer").sum())
            if answered < planned:
                gaps[model] = (planned - answered, planned)
        return gaps


def score_tests(plan: Plan, records: list[dict], specs: list[str]) -> pd.DataFrame:
    """One row per model x spec x template x sample that has all its answers; failed calls are Errors.

    Records are matched by (model, test, prompt, sample), not by their key: a run directory
    holds one plan (prepare_run_dir and merge refuse a second), and the key embeds the plan
    digest, which changes when the plan format gains a field. So runs of earlier releases are
    re-scored under today's specs.
    """
    answered: dict[tuple, str] = {}
    failed: set[tuple] = set()
    models: dict[str, None] = {}
    for record in records:
        models[record["model"]] = None
        call = (record["model"], record["test"], record["prompt_index"], record["sample"])
        if record.get("answer") is not None:
            answered[call] = record["answer"]
        else:
            failed.add(call)
    rows = []
    for model in models:
        for ti, test in enumerate(plan.tests):
            for sample in range(plan.samples):
                calls = [(model, ti, pi, sample) for pi in range(len(test.prompts))]
                if not all(c in answered or c in failed for c in calls):
                    continue  # not run yet: missing, counted in coverage
                answers = [answered.get(c) for c in calls]
                rows += _rows(model, "model", plan, ti, sample, answers, specs)
    for name in BASELINES:
        for ti, test in enumerate(plan.tests):
            rows += _rows(BASELINE_PREFIX + name, "baseline", plan, ti, 0, baseline_answers(name, test, plan.seed), specs)
    return pd.DataFrame(rows, columns=TEST_COLUMNS)


def _rows(model: str, kind: str, plan: Plan, ti: int, sample: int, answers: list[str | None], specs: list[str]) -> list[dict]:
    test = plan.tests[ti]
    template = test.template
    refusals = sum(1 for a in answers if a is not None and is_refusal(a, test.language))
    terms = [p.terms for p in test.prompts]
    prompts = [p.text for p in test.prompts]
    rows = []
    for spec_id in specs:
        verdict = evaluate(template, answers, test.language, test.delta, get_spec(spec_id), terms)
        rows.append(
            {
                "model": model,
                "kind": kind,
                "spec": spec_id,
                "language": test.language,
                "requirement": test.requirement,
                "concern": test.concern,
                "category": category_label(test.concern),
                "input_type": template.input_type,
                "reflection_type": template.reflection_type,
                "template_id": template.prompt_id,
                "test": ti,
                "sample": sample,
                "status": verdict.status,
                "outcome": verdict.outcome,
                "reason": verdict.reason,
                "prompts": prompts,
                "answers": answers,
                "refusals": refusals,
            }
        )
    return rows


def summarise(plan: Plan, tests: pd.DataFrame, seed: int, n_boot: int = 2000) -> pd.DataFrame:
    """Pass rate = Passed / (Passed + Failed) per model x spec x category, with coverage and baselines.

    Errors (unreadable under LangBiTe's rules, failed calls under both) leave the denominator;
    coverage says how much of the category that left. With ``samples`` > 1 the interval treats
    the samples of one template as a cluster (see stats.cluster_rate_interval).
    """
    planned = {label: 0 for label in dict.fromkeys(category_label(t.concern) for t in plan.tests)}
    for test in plan.tests:
        planned[category_label(test.concern)] += 1
    rows = []
    for (model, kind, spec_id), group in tests.groupby(["model", "kind", "spec"], sort=False):
        spec = get_spec(spec_id)
        samples = plan.samples if kind == "model" else 1
        outcomes, rates, problems = [], [], []
        by_category = dict(tuple(group.groupby("category", sort=False)))
        for category, n_planned in planned.items():
            cat = by_category.get(category, group.iloc[0:0])
            row = _cell(model, kind, spec_id, category, cat, n_planned * samples, spec.min_coverage)
            rows.append(row)
            if category in CATEGORIES.values():
                if math.isnan(row["score"]):
                    problems.append(category)
                else:
                    # One value per template (its share of samples passed): the bootstrap resamples templates.
                    valid = cat[cat["status"] != "Error"]
                    outcomes.append((valid["status"] == "Passed").groupby(valid["test"]).mean().to_numpy(dtype=float))
                    rates.append(row["score"])
        rows.append(_mean_row(model, kind, spec_id, group, rows[-len(planned) :], outcomes, rates, problems, seed, n_boot))
    summary = pd.DataFrame(rows)
    return _mark_baselines(summary)


def _cell(model: str, kind: str, spec: str, category: str, cat: pd.DataFrame, n_planned: int, min_coverage: float) -> dict:
    status, outcome = cat["status"], cat["outcome"]
    passed, failed, errors = int((status == "Passed").sum()), int((status == "Failed").sum()), int((status == "Error").sum())
    valid, refused = int((outcome == "valid").sum()), int((outcome == "refused").sum())
    unreadable, no_answer = int((outcome == "unreadable").sum()), int((outcome == "no answer").sum())
    n = passed + failed
    rate = passed / n if n else math.nan
    low, high = cluster_rate_interval(cat.loc[status != "Error", ["test", "status"]])
    coverage = valid / n_planned if n_planned else 0.0
    enough = n > 0 and coverage >= min_coverage
    answers = sum(len(a) for a in cat["answers"])
    return {
        "model": model,
        "kind": kind,
        "spec": spec,
        "category": category,
        "tests": n_planned,
        "passed": passed,
        "failed": failed,
        "errors": errors,
        "n": n,
        "valid": valid,
        "unreadable": unreadable,
        "refused": refused,
        "no_answer": no_answer,
        "missing": n_planned - len(cat),
        "pass_rate": rate,
        "score": rate if enough else math.nan,
        "ci_low": low,
        "ci_high": high,
        "coverage": coverage,
        "error_share": (unreadable + no_answer) / n_planned if n_planned else 0.0,
        "refused_share": refused / n_planned if n_planned else 0.0,
        "missing_share": (n_planned - len(cat)) / n_planned if n_planned else 0.0,
        "refusal_rate": int(cat["refusals"].sum()) / answers if answers else math.nan,
        "enough": enough,
        "note": "" if enough else f"{NOT_ENOUGH} ({min_coverage:.0%} needed)",
    }


def _mean_row(model, kind, spec, group, cells, outcomes, rates, problems, seed, n_boot) -> dict:
    seven = [c for c in cells if c["category"] in CATEGORIES.values()]
    present = {c["category"] for c in seven}
    if len(present) < len(CATEGORIES):
        note = f"no mean: {len(present)} of {len(CATEGORIES)} categories assessed"
    elif problems:
        note = f"no mean: {NOT_ENOUGH} in {', '.join(problems)}"
    else:
        note = ""
    total = sum(c["tests"] for c in seven)
    low, high = bootstrap_mean_interval(outcomes, seed=seed, n_boot=n_boot) if not note else (math.nan, math.nan)
    mean = float(np.mean(rates)) if rates and not note else math.nan
    summed = {
        k: sum(c[k] for c in seven)
        for k in ("passed", "failed", "errors", "n", "valid", "unreadable", "refused", "no_answer", "missing")
    }
    answers = sum(len(a) for a in group["answers"])
    return {
        "model": model,
        "kind": kind,
        "spec": spec,
        "category": MEAN_COLUMN,
        "tests": total,
        **summed,
        "pass_rate": mean,
        "score": mean,
        "ci_low": low,
        "ci_high": high,
        "coverage": summed["valid"] / total if total else 0.0,
        "error_share": (summed["unreadable"] + summed["no_answer"]) / total if total else 0.0,
        "refused_share": summed["refused"] / total if total else 0.0,
        "missing_share": summed["missing"] / total if total else 0.0,
        "refusal_rate": int(group["refusals"].sum()) / answers if answers else math.nan,
        "enough": not note,
        "note": note,
    }


def _mark_baselines(summary: pd.DataFrame) -> pd.DataFrame:
    """Beside each model cell: the best baseline there, and whether the model beats it."""
    baselines = summary[summary["kind"] == "baseline"]
    best = (
        baselines.dropna(subset=["score"])
        .sort_values("score", ascending=False, kind="stable")
        .groupby(["spec", "category"], sort=False)
        .head(1)
        .set_index(["spec", "category"])
    )
    names, scores, beats, notes = [], [], [], []
    for row in summary.itertuples():
        key = (row.spec, row.category)
        top = best.loc[key] if key in best.index else None
        names.append(None if top is None else top["model"].removeprefix(BASELINE_PREFIX))
        scores.append(math.nan if top is None else float(top["score"]))
        if row.kind != "model":
            beats.append(None)
            notes.append(row.note)
        elif math.isnan(row.score):
            beats.append(False)
            notes.append(row.note)
        elif top is None or row.score > top["score"]:
            beats.append(True)
            notes.append(row.note)
        else:
            beats.append(False)
            notes.append(f"{BELOW_BASELINE} ({names[-1]}: {top['score'] * 100:.0f} %)")
    return summary.assign(best_baseline=names, best_baseline_score=scores, beats_baselines=beats, note=notes)


def tolerance_table(assessment: Assessment, spec: str) -> pd.DataFrame:
    """LangBiTe's verdict per requirement: per model x concern x language x input x reflection,
    Passed when the pass rate reaches the requirement's tolerance, "Not evaluated" with no tests."""
    tolerances = {}
    for test in assessment.plan.tests:
        tolerances[test.requirement] = test.tolerance
    tests = assessment.tests[assessment.tests["spec"] == spec]
    keys = ["model", "requirement", "concern", "language", "input_type", "reflection_type"]
    rows = []
    for key, group in tests.groupby(keys, sort=False):
        passed, failed = int((group["status"] == "Passed").sum()), int((group["status"] == "Failed").sum())
        errors = int((group["status"] == "Error").sum())
        tolerance = tolerances[key[1]]
        if passed + failed == 0:
            verdict = "Not evaluated"
        else:
            verdict = "Passed" if passed / (passed + failed) >= tolerance else "Failed"
        rows.append(
            {
                **dict(zip(keys, key)),
                "passed": passed,
                "failed": failed,
                "errors": errors,
                "tolerance": tolerance,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def assess(plan: Plan, records: list[dict], specs: list[str], seed: int | None = None, n_boot: int = 2000) -> Assessment:
    tests = score_tests(plan, records, specs)
    return Assessment(
        plan=plan, tests=tests, summary=summarise(plan, tests, seed=plan.seed if seed is None else seed, n_boot=n_boot)
    )


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
    specs = [get_spec(s).id for s in specs]
    records = [r for d in dirs for r in read_run_records(d)]
    return assess(plans[0], records, specs, n_boot=n_boot)
