"""Send a plan's prompts to a model in batches, recording every call as it completes.

Batches are the unit of progress, cancellation and durability: the callback fires and the
cancel flag is read between batches, and each batch's records are flushed before the next.

A failure never loses or mis-scores a run. When a batch raises (or returns the wrong number of
answers) its prompts are asked again one at a time, each retried ``retries`` times with a
doubling backoff, so one bad prompt costs one Error record, not the run. An answer that is not
text is coerced (numbers, JSON values) or recorded as an error naming its type. Failed calls
are retried by the next run on the same directory, and ``report`` counts them as missing.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aifnb_widgets.backends.base import (
    Backend,
    BackendError,
    GenerationSettings,
    identify,
)
from aifnb_widgets.bias.plan import Plan, build_plan
from aifnb_widgets.bias.records import (
    append_records,
    call_key,
    latest_answers,
    now,
    read_records,
    records_path,
)
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
    calls_failed: int = 0


def settings_for(scenario: Scenario) -> GenerationSettings:
    return GenerationSettings(
        max_new_tokens=scenario.tokens,
        temperature=scenario.effective_temperature,
        do_sample=scenario.decoding.do_sample,
        top_p=scenario.decoding.top_p,
        seed=scenario.seed,
        timeout_s=scenario.decoding.timeout_s,
        retries=scenario.n_retries,
        backoff_s=scenario.decoding.backoff_s,
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
    sleep: Callable[[float], None] = time.sleep,
) -> RunSummary:
    """Ask every pending call of the plan, append its record, and return what was done.

    Calls already answered in ``run_dir`` are skipped; calls that failed before are asked again.
    """
    model_id, revision = identify(backend)
    path = records_path(run_dir, model_id)
    done = latest_answers(read_records(path))
    digest = plan.digest
    calls = [(ti, pi, s) for ti, test in enumerate(plan.tests) for pi in range(len(test.prompts)) for s in range(plan.samples)]
    pending = [c for c in calls if call_key(model_id, digest, *c) not in done]
    # Similar lengths side by side: less padding per batch, and resuming keeps the same batches.
    pending.sort(key=lambda c: len(plan.tests[c[0]].prompts[c[1]].text))
    total, finished = len(calls), len(calls) - len(pending)
    if progress:
        progress(finished, total)
    made = failed = 0
    params = settings.as_record()
    for start in range(0, len(pending), batch_size):
        if cancel is not None and cancel.is_set():
            return RunSummary(model_id, made, total - len(pending), cancelled=True, calls_failed=failed)
        batch = pending[start : start + batch_size]
        prompts = [plan.tests[ti].prompts[pi].text for ti, pi, _ in batch]
        results = ask_batch(backend, model_id, prompts, settings, sleep, cancel)
        revision = identify(backend)[1]  # an endpoint reveals its revision with its first answer
        append_records(
            path,
            [
                _record(plan, digest, model_id, revision, params, settings.seed, c, p, a, e)
                for c, p, (a, e) in zip(batch, prompts, results)
            ],
        )
        made += len(batch)
        failed += sum(1 for _, e in results if e is not None)
        if progress:
            progress(finished + made, total)
    return RunSummary(model_id, made, total - len(pending), cancelled=False, calls_failed=failed)


def ask_batch(
    backend: Backend,
    model_id: str,
    prompts: list[str],
    settings: GenerationSettings,
    sleep: Callable[[float], None] = time.sleep,
    cancel: threading.Event | None = None,
) -> list[tuple[str | None, str | None]]:
    """(answer, error) per prompt: the batch in one call, else each prompt alone with retries.

    Shared by every caller of a model (templates, BBQ items, the judge), so all of them survive
    a failing prompt the same way.
    """
    try:
        answers = backend.generate(prompts)
        if not isinstance(answers, (list, tuple)) or len(answers) != len(prompts):
            count = len(answers) if isinstance(answers, (list, tuple)) else type(answers).__name__
            raise BackendError(f"model {model_id} returned {count} answers for {len(prompts)} prompts")
        return [coerce_answer(a) for a in answers]
    except Exception as exc:
        batch_error = _describe(exc)
    results = []
    for prompt in prompts:
        # A batch of one has already had its first attempt.
        answer, error = None, batch_error
        for attempt in range(1 if len(prompts) == 1 else 0, settings.retries + 1):
            if cancel is not None and cancel.is_set():
                break
            if attempt:
                sleep(settings.backoff_s * 2 ** (attempt - 1))
            try:
                answers = backend.generate([prompt])
                if not isinstance(answers, (list, tuple)) or len(answers) != 1:
                    raise BackendError(f"model {model_id} did not return exactly one answer for one prompt")
                answer, error = coerce_answer(answers[0])
            except Exception as exc:
                answer, error = None, _describe(exc)
            if error is None:
                break
        results.append((answer if error is None else None, error))
    return results


def coerce_answer(answer: object) -> tuple[str | None, str | None]:
    """(text, None) for anything readable as an answer; (None, why) for what is not.

    Numbers and JSON values are written as JSON text, bytes decoded; None and other objects
    are errors, so a broken backend shows up as failed calls rather than as a crash in report.
    """
    if isinstance(answer, str):
        return answer, None
    if answer is None:
        return None, "the model returned no answer (None)"
    if isinstance(answer, bytes):
        return answer.decode("utf-8", errors="replace"), None
    if isinstance(answer, (bool, int, float, dict, list)):
        try:
            return json.dumps(answer, ensure_ascii=False), None
        except (TypeError, ValueError):
            pass
    return None, f"the model returned a {type(answer).__name__}, not text"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


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


def _record(
    plan: Plan, digest: str, model_id: str, revision: str | None, params: dict, seed: int, call, prompt, answer, error
) -> dict:
    ti, pi, sample = call
    test = plan.tests[ti]
    return {
        "key": call_key(model_id, digest, ti, pi, sample),
        "model": model_id,
        "revision": revision,
        "plan": digest,
        "test": ti,
        "prompt_index": pi,
        "sample": sample,
        "language": test.language,
        "concern": test.concern,
        "template_id": test.template.prompt_id,
        "prompt": prompt,
        "params": params,
        "seed": seed,
        "answer": answer,
        "error": error,
        "time": now(),
    }
