"""Send a plan's prompts to a model in batches, recording every call as it completes.

Batches are the unit of progress, cancellation and durability: the callback fires and the
cancel flag is read between batches, and each batch's records are flushed before the next.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from aifnb_widgets.backends.base import Backend, BackendError, GenerationSettings, identify
from aifnb_widgets.bias.plan import Plan, build_plan
from aifnb_widgets.bias.records import append_records, call_key, latest_answers, now, read_records, records_path
from aifnb_widgets.bias.scenario import Scenario

PLAN_FILE = "plan.json"
SCENARIO_FILE = "scenario.json"

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class RunSummary:
    model_id: str
    calls_made: int
    calls_skipped: int
    cancelled: bool


def settings_for(scenario: Scenario) -> GenerationSettings:
    return GenerationSettings(
        max_new_tokens=scenario.tokens,
        temperature=scenario.effective_temperature,
        do_sample=scenario.decoding.do_sample,
        top_p=scenario.decoding.top_p,
        seed=scenario.seed,
        timeout_s=scenario.decoding.timeout_s,
        retries=scenario.n_retries,
    )


def prepare_run_dir(run_dir: str | Path, scenario: Scenario, plan: Plan | None = None) -> Plan:
    """Write scenario and plan, or check that a run being resumed used the same plan."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    plan = plan or build_plan(scenario)
    plan_path = run_dir / PLAN_FILE
    if plan_path.is_file():
        existing = Plan.load(plan_path)
        if existing.digest != plan.digest:
            raise ValueError(
                f"{run_dir} holds a run of a different plan ({existing.digest} vs {plan.digest}); "
                "use a new --out directory or the same scenario"
            )
    else:
        plan.save(plan_path)
        (run_dir / SCENARIO_FILE).write_text(scenario.to_json(), encoding="utf-8")
    return plan


def run_model(
    plan: Plan,
    backend: Backend,
    run_dir: str | Path,
    settings: GenerationSettings,
    batch_size: int = 16,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> RunSummary:
    model_id, revision = identify(backend)
    path = records_path(run_dir, model_id)
    done = latest_answers(read_records(path))
    calls = [
        (ti, pi, s)
        for ti, test in enumerate(plan.tests)
        for pi in range(len(test.prompts))
        for s in range(plan.samples)
    ]
    pending = [c for c in calls if call_key(model_id, plan.digest, *c) not in done]
    # Similar lengths side by side: less padding per batch, and resuming keeps the same batches.
    pending.sort(key=lambda c: len(plan.tests[c[0]].prompts[c[1]].text))
    total, finished = len(calls), len(calls) - len(pending)
    if progress:
        progress(finished, total)
    made = 0
    for start in range(0, len(pending), batch_size):
        if cancel is not None and cancel.is_set():
            return RunSummary(model_id, made, total - len(pending), cancelled=True)
        batch = pending[start : start + batch_size]
        prompts = [plan.tests[ti].prompts[pi].text for ti, pi, _ in batch]
        try:
            answers = backend.generate(prompts)
            if len(answers) != len(prompts):
                raise BackendError(f"model {model_id} returned {len(answers)} answers for {len(prompts)} prompts")
            error = None
        except Exception as exc:  # a user's backend may raise anything; the record says what
            answers, error = [None] * len(prompts), f"{type(exc).__name__}: {exc}"
        revision = identify(backend)[1]  # an endpoint reveals its revision with its first answer
        append_records(path, [_record(plan, model_id, revision, settings, c, p, a, error) for c, p, a in zip(batch, prompts, answers)])
        if error is not None:
            raise BackendError(f"model {model_id} failed after {made} calls (records kept in {path}): {error}")
        made += len(batch)
        if progress:
            progress(finished + made, total)
    return RunSummary(model_id, made, total - len(pending), cancelled=False)


def run_scenario(
    scenario: Scenario,
    models: Sequence[str | Backend],
    run_dir: str | Path,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    device: str | None = None,
) -> list[RunSummary]:
    """Run every model of ``models`` (specs are built into backends one at a time)."""
    from aifnb_widgets.backends.factory import make_backend

    plan = prepare_run_dir(run_dir, scenario)
    settings = settings_for(scenario)
    summaries = []
    for model in models:
        backend = make_backend(model, settings, device=device) if isinstance(model, str) else model
        summary = run_model(plan, backend, run_dir, settings, scenario.decoding.batch_size, progress, cancel)
        summaries.append(summary)
        if summary.cancelled:
            break
    return summaries


def _record(plan: Plan, model_id: str, revision: str | None, settings: GenerationSettings, call, prompt, answer, error) -> dict:
    ti, pi, sample = call
    test = plan.tests[ti]
    return {
        "key": call_key(model_id, plan.digest, ti, pi, sample),
        "model": model_id,
        "revision": revision,
        "plan": plan.digest,
        "test": ti,
        "prompt_index": pi,
        "sample": sample,
        "language": test.language,
        "concern": test.concern,
        "template_id": test.template.prompt_id,
        "prompt": prompt,
        "params": settings.as_record(),
        "seed": settings.seed,
        "answer": answer,
        "error": error,
        "time": now(),
    }
