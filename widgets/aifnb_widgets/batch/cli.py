"""``aifnb batch submit|list|cancel|resubmit|usage``: Scale & Run from a session's terminal."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

from aifnb_slurm.slurm import SlurmCommandError
from aifnb_widgets.batch.layout import USER_ERRORS, BatchError
from aifnb_widgets.cli import guarded


def register(groups: argparse._SubParsersAction) -> None:
    batch = groups.add_parser("batch", help="run notebooks as Slurm batch jobs (Scale & Run)")
    commands = batch.add_subparsers(dest="command", required=True, metavar="COMMAND")

    submit = commands.add_parser("submit", help="execute a notebook with papermill as a Slurm job (or a sweep as a job array)")
    submit.add_argument("notebook")
    submit.add_argument("--profile", help="session profile whose partition and limits apply (default: your first)")
    submit.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="override a parameter of the notebook's parameters cell (repeatable)",
    )
    submit.add_argument("--sweep", help="YAML: a list of parameter mappings, or NAME: [values...] for every combination")
    submit.add_argument(
        "--data",
        nargs=2,
        action="append",
        default=[],
        metavar=("PARAMETER", "ENTRY"),
        help="set a parameter to the path of a models and datasets catalogue entry (`aifnb data list`); "
        "checked before submission and logged with the job id (repeatable)",
    )
    for key in ("partition", "cpus", "gpus", "walltime"):
        submit.add_argument(f"--{key}", help=f"{key} within the profile's limits")
    submit.add_argument("--dry-run", action="store_true", help="check everything and print the batch script; submit nothing")
    submit.set_defaults(func=_guarded(_submit))

    listing = commands.add_parser("list", help="your batch jobs (notebook runs and bias arrays), newest first")
    listing.add_argument("--all", action="store_true", help="include finished jobs (default: the 20 newest)")
    listing.set_defaults(func=_guarded(_list))

    cancel = commands.add_parser("cancel", help="cancel one of your batch jobs (123) or one run of a sweep or bias array (123_4)")
    cancel.add_argument("job_id")
    cancel.set_defaults(func=_guarded(_cancel))

    again = commands.add_parser(
        "resubmit", help="submit a run folder's notebook again with the same parameters, as the folder's owner"
    )
    again.add_argument("folder")
    again.add_argument(
        "--as-admin",
        action="store_true",
        help="as root, resubmit another user's run folder: the job runs as the folder's owner (never as the user job.json names)",
    )
    again.add_argument("--dry-run", action="store_true", help="check everything and print the batch script; submit nothing")
    again.set_defaults(func=_guarded(_resubmit))

    usage = commands.add_parser("usage", help="CPU- and GPU-hours per user and group (sacct, else the platform's records)")
    usage.add_argument("--since", type=_day, required=True, help="first day, YYYY-MM-DD (UTC)")
    usage.add_argument("--until", type=_day, required=True, help="last day included, YYYY-MM-DD (UTC)")
    usage.add_argument(
        "--sessions-log", help="JSONL log of interactive sessions (default: $AIFNB_USAGE_LOG, else the settings' hub.usage_log)"
    )
    usage.add_argument("--csv", help="also write the table to this CSV file ('-' for standard output)")
    usage.set_defaults(func=_guarded(_usage))


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _describe(exc: BaseException) -> str:
    return f"Slurm error: {exc.stderr}" if isinstance(exc, SlurmCommandError) else f"error: {exc}"


_guarded = guarded("batch", USER_ERRORS, _describe)


def _submit(args: argparse.Namespace) -> int:
    from aifnb_widgets.batch.api import submit_notebook
    from aifnb_widgets.batch.params import declared_parameters, load_sweep, parse_value

    declared = declared_parameters(args.notebook)
    parameters = {name: parse_value(declared, name, value) for name, value in args.parameter}
    resources = {key: getattr(args, key) for key in ("partition", "cpus", "gpus", "walltime") if getattr(args, key) is not None}
    submission = submit_notebook(
        args.notebook,
        profile=args.profile,
        parameters=parameters,
        sweep=load_sweep(args.sweep) if args.sweep else None,
        resources=resources,
        data=dict(args.data),
        dry_run=args.dry_run,
    )
    if args.dry_run:
        print(submission.script, end="")
        return 0
    runs = len(submission.folders)
    print(f"submitted job {submission.job_id} ({runs} run{'s' if runs > 1 else ''}, profile {submission.request.profile})")
    for folder in submission.folders:
        print(f"  {folder}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from aifnb_widgets.batch.api import list_jobs

    jobs = list_jobs()
    print(f"{'JOB':<14} {'KIND':<6} {'STATE':<11} {'ELAPSED':>9}  {'REASON':<14} FOLDER")
    for view in jobs if args.all else jobs[:20]:
        print(f"{view.slurm_id:<14} {view.kind:<6} {view.state:<11} {view.elapsed:>9}  {view.reason:<14} {view.folder}")
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from aifnb_widgets.batch.api import cancel_job

    print(f"cancelled {', '.join(cancel_job(args.job_id))}")
    return 0


def _resubmit(args: argparse.Namespace) -> int:
    from aifnb_widgets.batch.api import resubmit

    submission = resubmit(Path(args.folder), as_admin=args.as_admin, dry_run=args.dry_run)
    if args.dry_run:
        print(submission.script, end="")
        return 0
    print(f"submitted job {submission.job_id} as {submission.user}: {submission.folders[0]}")
    return 0


def _usage(args: argparse.Namespace) -> int:
    from aifnb_widgets.batch.usage import usage_report

    since = datetime.combine(args.since, time.min, UTC)
    until = datetime.combine(args.until, time.max, UTC)
    report = usage_report(since, until, sessions_log=args.sessions_log)
    print(f"source: {report.source}")
    if report.source != "sacct":
        print(f"sessions: {report.sessions}")
    print(report.table.to_string(index=False) if len(report.table) else "no usage in this period")
    if report.source != "sacct":
        print(
            "rows with source user-record come from job.json files the users' own jobs write: checked against their "
            "profiles, not proof (Slurm's accounting, slurmdbd, is)"
        )
    if report.skipped:
        print(f"{len(report.skipped)} user-written record(s) left out:")
        for folder, reason in report.skipped:
            print(f"  {folder}: {reason}")
    if args.csv:
        try:
            report.table.to_csv(sys.stdout if args.csv == "-" else args.csv, index=False)
        except OSError as exc:
            raise BatchError(f"cannot write {args.csv}: {exc.strerror}") from None
    return 0
