"""CPU- and GPU-hours of interactive sessions and batch jobs, per user and per group.

Slurm's accounting (``sacct`` backed by slurmdbd) is the reference where a cluster has it. Where
it has none (the embedded single-node Slurm, small centres), the platform's own records stand in:
a JSONL log of session starts and stops that the spawner appends to
(:mod:`aifnb_slurm.usage_log`; by default the hub's configured ``hub.usage_log``), and the
job.json of each notebook run and of each bias array task. A job.json is written by the
user's own job, so a user can edit it: the report labels those rows ``user-record``, counts a
record only for the uid that owns it, and leaves out (and lists) records whose resources or
times their profile could not have given. Every file is opened without following links and
only when it is a regular file (a FIFO named job.json must not hang the report).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, NamedTuple

import pandas as pd
import plotly.graph_objects as go
from pydantic import ValidationError

from aifnb_slurm import hub_groups
from aifnb_slurm.jobs import KINDS, Kind, job_kind
from aifnb_slurm.profiles import Profile, walltime_seconds
from aifnb_slurm.slurm import SlurmCommandError, run_slurm
from aifnb_slurm.usage_log import USAGE_LOG_ENV, SessionEvent
from aifnb_slurm.validate import DIGITS, matches
from aifnb_widgets.batch.api import platform_settings
from aifnb_widgets.batch.layout import (
    BatchError,
    JobRecord,
    now,
    open_regular,
    opened,
    read_runs,
)
from aifnb_widgets.batch.queue import run_sync

NO_GROUP = "(no group)"
SACCT_FIELDS = "JobID,JobName,User,Start,End,AllocTRES"
COLUMNS = ["scope", "name", "kind", "source", "jobs", "hours", "cpu_hours", "gpu_hours"]
#: Time a job may run past its walltime before Slurm kills it (KillWait and slack), in seconds.
WALLTIME_GRACE_S = 300

#: Where a row's numbers come from: Slurm's accounting, the spawner's session log (written by
#: the hub), or a job.json written by the user's own job.
Source = Literal["slurm", "hub-log", "user-record"]


@dataclass(frozen=True)
class Usage:
    """One job or session and the resources it held from ``start`` to ``end``."""

    user: str
    kind: Kind
    job_id: str
    start: datetime
    end: datetime
    cpus: int
    gpus: int
    source: Source = "slurm"


class Home(NamedTuple):
    """A user's home folder and uid: records count for the uid that owns them."""

    path: str | Path
    uid: int


def session_usage(path: str | Path, at: datetime | None = None) -> list[Usage]:
    """Sessions from the log: a start without a stop is still running (counted until ``at``).
    Malformed lines are skipped: the log is an accounting aid, not a reason for a report to fail.
    The log is read line by line, and only when it is a regular file."""
    starts: dict[str, SessionEvent] = {}
    stops: dict[str, datetime] = {}
    with opened(open_regular(path, follow=True)) as fd, open(fd, encoding="utf-8", errors="replace", closefd=False) as lines:
        for line in lines:
            try:
                event = SessionEvent.model_validate_json(line)
            except ValidationError:
                continue
            if event.event == "start":
                starts[event.job_id] = event
            else:
                stops[event.job_id] = event.time
    at = at or now()
    return [Usage(e.user, "session", job, e.time, stops.get(job, at), e.cpus, e.gpus, "hub-log") for job, e in starts.items()]


def record_problem(record: JobRecord, profiles: Mapping[str, Profile] | None, at: datetime) -> str | None:
    """Why a user-written record cannot be counted as it stands, or None.

    Times must be in order and not in the future; with the profiles, the record's CPUs and GPUs
    must be ones its profile allows and its run no longer than the profile's longest walltime.
    """
    start, end = record.started_at, record.ended_at or at
    if start is None:
        return None
    if end < start:
        return f"ends ({end:%Y-%m-%d %H:%M:%S}) before it starts ({start:%Y-%m-%d %H:%M:%S})"
    if start > at + timedelta(seconds=60) or end > at + timedelta(seconds=60):
        return "has times in the future"
    if start < record.submitted_at - timedelta(seconds=60):
        return "starts before it was submitted"
    if profiles is None:
        return None
    profile = profiles.get(record.profile)
    if profile is None:
        return f"names profile {record.profile[:40]!r}, which this platform does not offer"
    for name, value, default, bounds in (
        ("cpus", record.cpus, profile.cpus, profile.limits.cpus),
        ("gpus", record.gpus, profile.gpus, profile.limits.gpus),
    ):
        allowed = range(bounds.min, bounds.max + 1) if bounds else range(default, default + 1)
        if value not in allowed:
            return f"claims {name}={value}; profile {profile.slug} allows {allowed.start}-{allowed.stop - 1}"
    longest = walltime_seconds(profile.limits.walltime_max or profile.walltime) + WALLTIME_GRACE_S
    if (end - start).total_seconds() > longest:
        return f"ran {end - start}, longer than profile {profile.slug} allows"
    return None


def batch_usage(
    homes: Mapping[str, Home],
    at: datetime | None = None,
    *,
    profiles: Iterable[Profile] | None = None,
    skipped: list[tuple[str, str]] | None = None,
) -> list[Usage]:
    """Notebook runs and bias array tasks from the job.json records in each user's home (runs
    that never started hold nothing), each with its kind, labelled ``user-record``. A record
    counts only for the uid that owns it and its folder, when it names that user, and when
    :func:`record_problem` finds nothing; the others are listed in ``skipped`` as
    ``(folder, reason)``."""
    at = at or now()
    by_slug = {profile.slug: profile for profile in profiles} if profiles is not None else None
    usages = []
    for user, home in homes.items():
        unusable: list[tuple[Path, str]] = []
        for run in read_runs(home.path, unusable):
            record = run.record
            if run.uid != home.uid:
                unusable.append((run.folder, f"is not owned by {user} (uid {home.uid})"))
            elif record.user != user:
                unusable.append((run.folder, f"names user {record.user!r}, but {user} owns it"))
            elif (problem := record_problem(record, by_slug, at)) is not None:
                unusable.append((run.folder, problem))
            elif record.started_at is not None:
                usages.append(
                    Usage(
                        user,
                        record.kind,
                        record.slurm_id,
                        record.started_at,
                        record.ended_at or at,
                        record.cpus,
                        record.gpus,
                        "user-record",
                    )
                )
        if skipped is not None:
            skipped.extend((str(folder), reason) for folder, reason in unusable)
    return usages


def _tres(alloc: str, key: str) -> int:
    for item in alloc.split(","):
        name, _, value = item.partition("=")
        if name == key and matches(DIGITS, value):
            return int(value)
    return 0


def _sacct_time(text: str) -> datetime | None:
    if text in ("Unknown", "None", ""):
        return None
    return datetime.fromisoformat(text).replace(tzinfo=UTC)  # sacct runs with TZ=UTC


def parse_sacct(output: str, at: datetime | None = None) -> list[Usage]:
    """``sacct -a -X -n -P -o SACCT_FIELDS`` lines of the platform's jobs (sessions, notebook runs
    and bias arrays, told apart by their names: :mod:`aifnb_slurm.jobs`)."""
    at = at or now()
    usages = []
    for line in output.splitlines():
        fields = line.split("|")
        if len(fields) != 6:
            continue
        job_id, name, user, start_text, end_text, alloc = fields
        kind = job_kind(name)
        start = _sacct_time(start_text)
        if kind is None or start is None:
            continue
        end = _sacct_time(end_text) or at
        usages.append(Usage(user, kind, job_id, start, end, _tres(alloc, "cpu"), _tres(alloc, "gres/gpu"), "slurm"))
    return usages


def sacct_usage(since: datetime, until: datetime) -> list[Usage] | None:
    """Slurm's accounting for the period; None where the cluster keeps none (no slurmdbd)."""
    argv = ["sacct", "-a", "-X", "-n", "-P", "-o", SACCT_FIELDS, "-S", _slurm_time(since), "-E", _slurm_time(until)]
    try:
        return parse_sacct(run_sync(run_slurm(argv, env={**os.environ, "TZ": "UTC"}, timeout=60)))
    except SlurmCommandError as exc:
        if "accounting storage is disabled" in exc.stderr.lower() or (exc.returncode is None and "not installed" in exc.stderr):
            return None
        raise


def _slurm_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def usage_table(usages: Iterable[Usage], groups: Mapping[str, Iterable[str]], since: datetime, until: datetime) -> pd.DataFrame:
    """Jobs, hours, CPU-hours and GPU-hours per user and per group (a user counts in each of
    their groups), by kind and source; each interval is clipped to [since, until]."""
    rows = []
    for usage in usages:
        seconds = (min(usage.end, until) - max(usage.start, since)).total_seconds()
        if seconds < 0 or usage.start > until:
            continue
        hours = seconds / 3600
        for scope, name in [("user", usage.user), *(("group", g) for g in (list(groups.get(usage.user, ())) or [NO_GROUP]))]:
            rows.append(
                {
                    "scope": scope,
                    "name": name,
                    "kind": usage.kind,
                    "source": usage.source,
                    "jobs": 1,
                    "hours": hours,
                    "cpu_hours": hours * usage.cpus,
                    "gpu_hours": hours * usage.gpus,
                }
            )
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    table = (
        pd.DataFrame(rows)
        .groupby(["scope", "name", "kind", "source"], as_index=False)[["jobs", "hours", "cpu_hours", "gpu_hours"]]
        .sum()
    )
    return table.sort_values(["scope", "name", "kind", "source"], ascending=[False, True, True, True]).reset_index(drop=True)


def usage_chart(table: pd.DataFrame, scope: Literal["user", "group"] = "user") -> go.Figure:
    """CPU-hours and GPU-hours per user (or group), sessions, notebook runs and bias arrays stacked."""
    part = table[table["scope"] == scope].groupby(["name", "kind"], as_index=False)[["cpu_hours", "gpu_hours"]].sum()
    figure = go.Figure()
    for metric, axis in (("cpu_hours", "CPU-hours"), ("gpu_hours", "GPU-hours")):
        for kind in KINDS:
            rows = part[part["kind"] == kind]
            figure.add_bar(x=rows["name"], y=rows[metric], name=f"{axis}, {kind}", offsetgroup=metric, legendgroup=metric)
    figure.update_layout(barmode="relative", title=f"Usage per {scope}", yaxis_title="hours", xaxis_title=scope)
    return figure


def platform_users(settings) -> dict[str, list[str]]:
    """Every user and their groups: from the hub API with an admin's token, else (root on the hub
    host) the settings' member lists (:func:`aifnb_slurm.hub_groups.platform_users`)."""
    members = {name: group.users for name, group in settings.groups.items()}
    return {user: list(groups) for user, groups in hub_groups.platform_users(members).items()}


@dataclass(frozen=True)
class UsageReport:
    """The admin report for a period: where the numbers come from, the table and its chart, and
    the user-written records left out, with why."""

    source: Literal["sacct", "platform records"]
    since: datetime
    until: datetime
    usages: list[Usage]
    table: pd.DataFrame
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: Where the sessions' numbers come from (without sacct): the log read, or why none was.
    sessions: str = ""

    def figure(self, scope: Literal["user", "group"] = "user") -> go.Figure:
        return usage_chart(self.table, scope)


def usage_report(
    since: datetime,
    until: datetime,
    *,
    users: Mapping[str, Iterable[str]] | None = None,
    sessions_log: str | Path | None = None,
    settings=None,
) -> UsageReport:
    """The report for ``users`` (name to groups; default: the platform's users). Reading other
    users' homes needs the rights an admin's report job has (root, or a group-readable runs dir).

    Slurm's accounting when ``sacct`` has it; else the hub's session log and the users' own
    job.json records, checked against the platform's profiles and labelled as user-written. The
    session log is ``sessions_log``, else ``$AIFNB_USAGE_LOG``, else the hub's configured
    ``hub.usage_log``: an admin on the hub host gets the interactive sessions without naming it.
    A log named explicitly must exist; the default one may not (no session yet).
    """
    settings = settings or platform_settings()
    if users is None:
        users = platform_users(settings)
    at = now()
    usages = sacct_usage(since, until)
    source: Literal["sacct", "platform records"] = "sacct"
    skipped: list[tuple[str, str]] = []
    sessions = "sacct"
    if usages is None:
        source = "platform records"
        homes = {}
        for user in users:
            try:
                entry = pwd.getpwnam(user)
            except KeyError:
                continue
            homes[user] = Home(entry.pw_dir, entry.pw_uid)
        usages = batch_usage(homes, at, profiles=settings.profiles, skipped=skipped)
        named = sessions_log or os.environ.get(USAGE_LOG_ENV)
        log = Path(named or settings.hub.usage_log)
        if log.exists():
            usages += session_usage(log, at)
            sessions = f"hub log {log}"
        elif named:
            raise BatchError(f"sessions log {log} does not exist")
        else:
            sessions = f"none counted: the hub's log {log} does not exist (no session has started yet?)"
    usages = [u for u in usages if u.user in users]
    return UsageReport(source, since, until, usages, usage_table(usages, users, since, until), skipped, sessions)
