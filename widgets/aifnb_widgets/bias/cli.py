"""``aifnb bias run|report|leaderboard|bbq|judge|submit|merge|check-library``: the engine from a shell or a batch job."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aifnb_widgets.backends.base import BackendError
from aifnb_widgets.bias.library import LibraryError
from aifnb_widgets.bias.plan import PlanError
from aifnb_widgets.bias.scenario import ScenarioError
from aifnb_widgets.cli import guarded

USER_ERRORS = (ScenarioError, PlanError, LibraryError, BackendError, ValueError, RuntimeError, OSError)
# Exit status of ``run``/``report``/``merge`` when tests have no answer: distinct from 2 (bad input).
INCOMPLETE_EXIT = 3


def register(groups: argparse._SubParsersAction) -> None:
    bias = groups.add_parser("bias", help="LangBiTe-style social-bias assessment of language models")
    commands = bias.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="assess models and write records and a report to --out")
    _scenario_options(run)
    run.add_argument("--model", action="append", default=[], help="model path, Hugging Face id or URL#MODEL (repeatable)")
    run.add_argument("--models-file", help="JSON list of models (Slurm array tasks pick theirs with --model-index)")
    run.add_argument("--model-index", type=int, help="index into --models-file")
    run.add_argument("--out", required=True, help="run directory (re-running it resumes)")
    run.add_argument("--device", help="torch device; default cuda when available, else cpu")
    run.set_defaults(func=_guarded(_run))

    report = commands.add_parser("report", help="score run directories again (no model needed) and write a report")
    report.add_argument("run_dirs", nargs="+", help="one run directory, or several of the same plan to merge")
    report.add_argument("--out", help="where to write the report (default: the first run directory)")
    report.add_argument("--spec", action="append", help="scoring spec(s) (default: the scenario's)")
    report.add_argument(
        "--partial",
        action="store_true",
        help="score a run that has tests without answers (exit 0); without it such a run exits 3",
    )
    report.set_defaults(func=_guarded(_report))

    board = commands.add_parser(
        "leaderboard", help="the observatory's table (organisation, model x seven categories + mean) from run directories"
    )
    board.add_argument("run_dirs", nargs="+", help="run directories of the same plan (one or more models each)")
    board.add_argument(
        "--out", help="where to write leaderboard.html and leaderboard-<spec>.csv (default: the first run directory)"
    )
    board.add_argument("--spec", action="append", help="scoring spec(s) (default: the scenario's)")
    board.add_argument("--partial", action="store_true", help="accept run directories with unanswered tests")
    board.set_defaults(func=_guarded(_leaderboard))

    bbq = commands.add_parser("bbq", help="BBQ-style items: accuracy and bias score in ambiguous and disambiguated contexts")
    bbq.add_argument("--model", action="append", default=[], required=True, help="model spec (repeatable)")
    bbq.add_argument("--languages", default="en", help="built-in item languages, comma-separated (default en)")
    bbq.add_argument("--bbq-jsonl", help="a BBQ JSONL file staged locally (public BBQ format) instead of the built-in items")
    bbq.add_argument("--bbq-language", default="en", help="language of --bbq-jsonl (default en)")
    bbq.add_argument("--out", required=True, help="run directory (re-running it resumes)")
    bbq.add_argument("--batch-size", type=int, default=16)
    bbq.add_argument("--device", help="torch device; default cuda when available, else cpu")
    bbq.set_defaults(func=_guarded(_bbq))

    judge = commands.add_parser(
        "judge", help="optional: a judge model re-reads failed or unreadable answers (kept apart from the scores)"
    )
    judge.add_argument("run_dir")
    judge.add_argument("--judge", required=True, help="judge model spec (path, hub id or URL#MODEL)")
    judge.add_argument("--spec", default="aifnb-2", help="whose Failed/unreadable tests to re-judge (default aifnb-2)")
    judge.add_argument("--device", help="torch device for a local judge")
    judge.set_defaults(func=_guarded(_judge))

    submit = commands.add_parser(
        "submit", help="write and sbatch a job array with one task per model, on one of your session profiles"
    )
    _scenario_options(submit)
    submit.add_argument("--model", action="append", default=[], required=True, help="model spec (repeatable)")
    submit.add_argument("--job-dir", required=True, help="absolute directory shared with the compute nodes")
    submit.add_argument(
        "--profile",
        required=True,
        help="session profile allowed to your groups: partition, memory, GPUs, account and QoS are its own",
    )
    submit.add_argument("--cpus", help="CPUs per task, within the profile's limits")
    submit.add_argument("--gpus", help="GPUs per task, within the profile's limits")
    submit.add_argument("--walltime", help="HH:MM:SS per task, at most the profile's limit")
    submit.add_argument("--no-submit", action="store_true", help="check everything and write the script only")
    submit.set_defaults(func=_guarded(_submit))

    merge = commands.add_parser("merge", help="merge the tasks of a job array into one leaderboard")
    merge.add_argument("job_dir")
    merge.add_argument("--out", help="default: JOB_DIR/merged")
    merge.add_argument("--partial", action="store_true", help="merge even when tasks have tests without answers")
    merge.set_defaults(func=_guarded(_merge))

    check = commands.add_parser(
        "check-library", help="validate a LangBiTe-format prompt library (encoding, columns, oracles, placeholders)"
    )
    check.add_argument("path")
    check.set_defaults(func=_guarded(_check_library))


def _scenario_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", help="scenario JSON (LangBiTe format plus extensions); default: built-in")
    parser.add_argument("--languages", help="comma-separated languages, overriding the scenario's")
    parser.add_argument("--concerns", help="comma-separated concerns, overriding the scenario's")
    parser.add_argument("--n-templates", type=int, help="templates per concern and language")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--batch-size", type=int)


_guarded = guarded("bias", USER_ERRORS)


def _load_scenario(args: argparse.Namespace):
    from aifnb_widgets.bias.concerns import normalise_concern
    from aifnb_widgets.bias.scenario import (
        default_scenario,
        load_scenario,
        parse_scenario,
    )

    scenario = load_scenario(args.scenario) if args.scenario else default_scenario()
    data = scenario.model_dump(by_alias=True)
    if args.concerns:
        wanted = [normalise_concern(c) for c in args.concerns.split(",")]
        data["requirements"] = [r for r in data["requirements"] if r["concern"] in wanted]
    if args.languages:
        for requirement in data["requirements"]:
            requirement["languages"] = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
    for key, value in (("nTemplates", args.n_templates), ("seed", args.seed)):
        if value is not None:
            data[key] = value
    if args.batch_size is not None:
        data["decoding"]["batch_size"] = args.batch_size
    return parse_scenario(data, source=args.scenario or "built-in scenario")


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from aifnb_widgets.bias.report import format_leaderboard, write_report
    from aifnb_widgets.bias.results import assess_run_dirs
    from aifnb_widgets.bias.runner import run_scenario
    from aifnb_widgets.bias.slurm import read_models_file

    scenario = _load_scenario(args)
    models = list(args.model)
    if args.models_file is not None:
        if args.model_index is None:
            raise ValueError("--models-file needs --model-index")
        models.append(read_models_file(args.models_file, args.model_index))
    models = models or scenario.ai_models
    if not models:
        raise ValueError("no model given: use --model, --models-file or the scenario's aiModels")
    if scenario.use_llm_eval:
        print(
            "aifnb bias run: useLLMEval is set in the scenario; scores stay rule-based. For a judge model's second "
            f"opinion, kept apart, run: aifnb bias judge {args.out} --judge MODEL",
            file=sys.stderr,
        )
    with tqdm(desc="bias prompts", unit="prompt", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        summaries = run_scenario(scenario, models, args.out, progress=progress, device=args.device)
    assessment = assess_run_dirs([args.out])
    paths = write_report(assessment, args.out)
    print(format_leaderboard(assessment))
    print(f"\nreport: {paths['html']}")
    _log_to_mlflow(assessment, args.out)
    failed = sum(s.calls_failed for s in summaries)
    if failed:
        print(
            f"aifnb bias run: {failed} call(s) failed and are recorded as errors (see 'error' in "
            f"{Path(args.out) / 'records'}); run the same command again to retry them",
            file=sys.stderr,
        )
        return INCOMPLETE_EXIT
    return 0


def _log_to_mlflow(assessment, out: str | Path) -> None:
    """With the hub's MLflow service (a session, or a job given its credential): one run per model.
    A service that does not answer is reported; the assessment and its report stand."""
    from aifnb_widgets import mlops

    try:
        for model, page in mlops.log_assessment_runs(assessment, out).items():
            print(f"MLflow run of {model}: {page}")
    except mlops.MlflowServiceError as exc:
        print(f"aifnb bias run: not logged to MLflow: {exc}", file=sys.stderr)


def _finish(assessment, out: str | Path, partial: bool, command: str) -> int:
    """Write and print the report; a run with unanswered tests fails unless ``--partial``."""
    from aifnb_widgets.bias.report import format_leaderboard, write_report

    paths = write_report(assessment, out)
    print(format_leaderboard(assessment))
    print(f"\nreport: {paths['html']}")
    gaps = assessment.incomplete()
    if gaps and not partial:
        detail = "; ".join(f"{model}: {missing} of {total} tests have no answer" for model, (missing, total) in gaps.items())
        print(
            f"aifnb bias {command}: the run is incomplete ({detail}). Resume it with 'aifnb bias run' on the same "
            "directory, or pass --partial to accept a report on the tests that have answers",
            file=sys.stderr,
        )
        return INCOMPLETE_EXIT
    return 0


def _report(args: argparse.Namespace) -> int:
    from aifnb_widgets.bias.results import assess_run_dirs

    assessment = assess_run_dirs(args.run_dirs, specs=args.spec)
    return _finish(assessment, args.out or args.run_dirs[0], args.partial, "report")


def _leaderboard(args: argparse.Namespace) -> int:
    from aifnb_widgets.bias.leaderboard import (
        format_leaderboard_table,
        write_leaderboard,
    )
    from aifnb_widgets.bias.results import assess_run_dirs

    assessment = assess_run_dirs(args.run_dirs, specs=args.spec)
    paths = write_leaderboard(assessment, args.out or args.run_dirs[0])
    print("\n\n".join(format_leaderboard_table(assessment, spec) for spec in assessment.specs))
    print(f"\nleaderboard: {paths['html']}")
    gaps = assessment.incomplete()
    if gaps and not args.partial:
        detail = "; ".join(f"{model}: {missing} of {total} tests have no answer" for model, (missing, total) in gaps.items())
        print(f"aifnb bias leaderboard: incomplete run(s) ({detail}); resume them or pass --partial", file=sys.stderr)
        return INCOMPLETE_EXIT
    return 0


def _make_backend(spec: str, settings, device: str | None):
    from aifnb_widgets.backends.factory import make_backend

    return make_backend(spec, settings, device=device)


def _bbq(args: argparse.Namespace) -> int:
    from aifnb_widgets.backends.base import GenerationSettings, identify
    from aifnb_widgets.bias.bbq import builtin_bbq_path, load_bbq, run_bbq, score_bbq

    if args.bbq_jsonl:
        items = load_bbq(args.bbq_jsonl, args.bbq_language)
    else:
        languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
        items = [item for lang in languages for item in load_bbq(builtin_bbq_path(lang), lang)]
    settings = GenerationSettings(max_new_tokens=16)
    answers, failed = {}, 0
    for spec in args.model:
        backend = _make_backend(spec, settings, args.device)
        given, n_failed = run_bbq(items, backend, args.out, settings, batch_size=args.batch_size)
        answers[identify(backend)[0]] = {k: v for k, v in given.items() if v is not None}
        failed += n_failed
    table = score_bbq(items, answers)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "bbq.csv", index=False)
    print(table[table["category"] == "All"].round(2).to_string(index=False))
    print(f"\nper category: {out / 'bbq.csv'}")
    if failed:
        print(
            f"aifnb bias bbq: {failed} call(s) failed and are recorded; run the same command again to retry them", file=sys.stderr
        )
        return INCOMPLETE_EXIT
    return 0


def _judge(args: argparse.Namespace) -> int:
    from aifnb_widgets.backends.base import GenerationSettings
    from aifnb_widgets.bias.judge import JUDGE_DIR, judge_assessment, judged_summary
    from aifnb_widgets.bias.results import assess_run_dirs

    assessment = assess_run_dirs([args.run_dir], specs=[args.spec])
    settings = GenerationSettings(max_new_tokens=4)
    judged = judge_assessment(assessment, _make_backend(args.judge, settings, args.device), args.run_dir, args.spec, settings)
    summary = judged_summary(assessment, judged, args.spec)
    out = Path(args.run_dir) / JUDGE_DIR
    judged.to_csv(out / "judged_tests.csv", index=False)
    summary.to_csv(out / "judged_summary.csv", index=False)
    print(f"judge: {args.judge} (verdicts kept apart from the rule-based scores; see {out})")
    print(summary.round(3).to_string(index=False))
    return 0


def _submit(args: argparse.Namespace) -> int:
    from aifnb_widgets.bias.slurm import submit_array

    submission = submit_array(
        args.job_dir,
        _load_scenario(args),
        args.model,
        profile=args.profile,
        cpus=args.cpus,
        gpus=args.gpus,
        walltime=args.walltime,
        dry_run=args.no_submit,
    )
    if args.no_submit:
        print(submission.script)
        return 0
    print(
        f"submitted array job {submission.job_id} ({len(submission.models)} task(s), profile {submission.request.profile}); "
        f"follow it with 'aifnb batch list'; when done: aifnb bias merge {args.job_dir}"
    )
    return 0


def _merge(args: argparse.Namespace) -> int:
    from aifnb_widgets.bias.results import assess_run_dirs
    from aifnb_widgets.bias.slurm import task_dirs

    assessment = assess_run_dirs(task_dirs(args.job_dir))
    return _finish(assessment, args.out or Path(args.job_dir) / "merged", args.partial, "merge")


def _check_library(args: argparse.Namespace) -> int:
    from collections import Counter

    from aifnb_widgets.bias.library import check_placeholders, read_library

    templates = read_library(args.path)
    problems = check_placeholders(templates, args.path)
    if problems:
        for problem in problems:
            print(f"aifnb bias check-library: {problem}", file=sys.stderr)
        return 2
    counts = Counter(t.concern for t in templates)
    print(f"{args.path}: {len(templates)} templates")
    for concern, n in sorted(counts.items()):
        operations = Counter(t.prediction["operation"] for t in templates if t.concern == concern)
        print(f"  {concern}: {n} ({', '.join(f'{op} {k}' for op, k in sorted(operations.items()))})")
    return 0
