"""CPU- and GPU-hours of interactive sessions and batch jobs, per user and per group.

Slurm's accounting (``sacct`` backed by slurmdbd) is the reference where a cluster has it. Where
it has none (the embedded single-node Slurm, small centres), the platform's own records stand in:
each batch run's job.json (written by the job itself) and a JSONL log of session starts and stops
that the spawner appends to (:mod:`aifnb_spawners.usage_log`).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import httpx
import pandas as pd
import plotly.graph_objects as go
from aifnb_spawners.slurm import SlurmCommandError, run_slurm
from aifnb_spawners.usage_log import USAGE_LOG_ENV, SessionEvent

from aifnb_widgets.batch.api import hub_get, platform_settings
from aifnb_widgets.batch.layout import JOB_NAME_PREFIX, now, read_records
from aifnb_widgets.batch.queue import run_sync

SESSION_JOB_PREFIX = "aifnb-session-"
NO_GROUP = "(no group)"
SACCT_FIELDS = "JobID,JobName,User,Start,End,AllocTRES"
COLUMNS = ["scope", "name", "kind", "jobs", "hours", "cpu_hours", "gpu_hours"]

Kind = Literal["session", "batch"]


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


def session_usage(path: str | Path, at: datetime | None = None) -> list[Usage]:
    """Sessions from the log: a start without a stop is still running (counted until ``at``).
    Malformed lines are skipped: the log is an accounting aid, not a reason for a report to fail."""
    starts: dict[str, SessionEvent] = {}
    stops: dict[str, datetime] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            event = SessionEvent.model_validate_json(line)
        except ValueError:
            continue
        if event.event == "start":
            starts[event.job_id] = event
        else:
            stops[event.job_id] = event.time
    at = at or now()
    return [Usage(e.user, "session", job, e.time, stops.get(job, at), e.cpus, e.gpus) for job, e in starts.items()]


def batch_usage(homes: Mapping[str, str | Path], at: datetime | None = None) -> list[Usage]:
    """Batch runs from the job.json records in each user's home (runs that never started hold
    nothing); a record is trusted only for the user whose home it is in."""
    at = at or now()
    usages = []
    for user, home in homes.items():
        for _, record in read_records(home):
            if record.user == user and record.started_at is not None:
                usages.append(Usage(user, "batch", record.slurm_id, record.started_at, record.ended_at or at, record.cpus, record.gpus))
    return usages


def _tres(alloc: str, key: str) -> int:
    for item in alloc.split(","):
        name, _, value = item.partition("=")
        if name == key and value.isdigit():
            return int(value)
    return 0


def _sacct_time(text: str) -> datetime | None:
    if text in ("Unknown", "None", ""):
        return None
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)  # sacct runs with TZ=UTC


def parse_sacct(output: str, at: datetime | None = None) -> list[Usage]:
    """``sacct -a -X -n -P -o SACCT_FIELDS`` lines of the platform's jobs (sessions and batch)."""
    at = at or now()
    usages = []
    for line in output.splitlines():
        fields = line.split("|")
        if len(fields) != 6:
            continue
        job_id, name, user, start_text, end_text, alloc = fields
        kind: Kind | None = "session" if name.startswith(SESSION_JOB_PREFIX) else "batch" if name.startswith(JOB_NAME_PREFIX) else None
        start = _sacct_time(start_text)
        if kind is None or start is None:
            continue
        end = _sacct_time(end_text) or at
        usages.append(Usage(user, kind, job_id, start, end, _tres(alloc, "cpu"), _tres(alloc, "gres/gpu")))
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
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def usage_table(usages: Iterable[Usage], groups: Mapping[str, Iterable[str]], since: datetime, until: datetime) -> pd.DataFrame:
    """Jobs, hours, CPU-hours and GPU-hours per user and per group (a user counts in each of
    their groups), by kind; each interval is clipped to [since, until]."""
    rows = []
    for usage in usages:
        seconds = (min(usage.end, until) - max(usage.start, since)).total_seconds()
        if seconds < 0 or usage.start > until:
            continue
        hours = seconds / 3600
        for scope, name in [("user", usage.user), *(("group", g) for g in (list(groups.get(usage.user, ())) or [NO_GROUP]))]:
            rows.append({"scope": scope, "name": name, "kind": usage.kind, "jobs": 1, "hours": hours,
                         "cpu_hours": hours * usage.cpus, "gpu_hours": hours * usage.gpus})
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.DataFrame(rows).groupby(["scope", "name", "kind"], as_index=False)[["jobs", "hours", "cpu_hours", "gpu_hours"]].sum()
    return table.sort_values(["scope", "name", "kind"], ascending=[False, True, True]).reset_index(drop=True)


def usage_chart(table: pd.DataFrame, scope: Literal["user", "group"] = "user") -> go.Figure:
    """CPU-hours and GPU-hours per user (or group), sessions and batch jobs stacked."""
    part = table[table["scope"] == scope]
    figure = go.Figure()
    for metric, axis in (("cpu_hours", "CPU-hours"), ("gpu_hours", "GPU-hours")):
        for kind in ("session", "batch"):
            rows = part[part["kind"] == kind]
            figure.add_bar(x=rows["name"], y=rows[metric], name=f"{axis}, {kind}", offsetgroup=metric, legendgroup=metric)
    figure.update_layout(barmode="relative", title=f"Usage per {scope}", yaxis_title="hours", xaxis_title=scope)
    return figure


def platform_users(settings) -> dict[str, list[str]]:
    """Every user and their groups: from the hub API (admin token) inside the hub's environment,
    else the settings' member lists (demo mode)."""
    try:
        hub_users = hub_get("/users", timeout=30)
    except httpx.HTTPError as exc:
        raise PermissionError(f"cannot list the hub's users ({exc}); the report needs an admin's token (read:users:groups)") from None
    if hub_users is not None:
        return {u["name"]: list(u.get("groups", [])) for u in hub_users}
    users: dict[str, list[str]] = {}
    for name, group in settings.groups.items():
        for user in group.users:
            users.setdefault(user, []).append(name)
    return users


@dataclass(frozen=True)
class UsageReport:
    """The admin report for a period: where the numbers come from, the table and its chart."""

    source: Literal["sacct", "platform records"]
    since: datetime
    until: datetime
    usages: list[Usage]
    table: pd.DataFrame

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
    users' homes needs the rights an admin's report job has (root, or a group-readable runs dir)."""
    if users is None:
        users = platform_users(settings or platform_settings())
    at = now()
    usages = sacct_usage(since, until)
    source: Literal["sacct", "platform records"] = "sacct"
    if usages is None:
        source = "platform records"
        homes = {}
        for user in users:
            try:
                homes[user] = pwd.getpwnam(user).pw_dir
            except KeyError:
                continue
        usages = batch_usage(homes, at)
        log = sessions_log or os.environ.get(USAGE_LOG_ENV)
        if log and Path(log).exists():
            usages += session_usage(log, at)
    usages = [u for u in usages if u.user in users]
    return UsageReport(source, since, until, usages, usage_table(usages, users, since, until))

