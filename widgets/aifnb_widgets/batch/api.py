"""Submit, follow, cancel and resubmit notebook runs: the Python API under the CLI and widgets.

Every check happens before Slurm sees anything: the profile and resources through the same
:func:`~aifnb_spawners.profiles.resolve_request` as interactive sessions, the parameters against
the notebook's ``parameters`` cell. The job is submitted held and released only once its run
folders, parameters.json and job.json exist, so no job can start without its records and the
records always carry the real job id.
"""

from __future__ import annotations

import json
import os
import pwd
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aifnb_hub.settings import Settings, load_settings
from aifnb_spawners.profiles import JobRequest, resolve_request

from aifnb_widgets.batch import queue as slurm
from aifnb_widgets.batch.layout import (
    ERROR,
    EXECUTED,
    FINAL,
    INPUT,
    JOB_NAME_PREFIX,
    LOG,
    PARAMETERS,
    JobRecord,
    now,
    read_record,
    read_records,
    run_dir,
    stem_slug,
    write_file,
    write_json,
    write_record,
)
from aifnb_widgets.batch.params import ParameterError, check_parameters, declared_parameters
from aifnb_widgets.batch.script import render_job_script

#: Resource choices a batch job may adjust, as in the spawn form (the profile is separate).
RESOURCE_KEYS = ("partition", "cpus", "gpus", "walltime")


class BatchError(ValueError):
    """A request the batch tools refuse: not the user's job, no such notebook, Slurm said no."""


def platform_settings() -> Settings:
    """The settings the hub gave this session (``AIFNB_SETTINGS``), else the embedded default."""
    return load_settings(os.environ.get("AIFNB_SETTINGS") or None)


def hub_get(path: str, timeout: float) -> Any | None:
    """GET from the hub's REST API with the environment's token; None outside a hub session."""
    url, token = os.environ.get("JUPYTERHUB_API_URL"), os.environ.get("JUPYTERHUB_API_TOKEN")
    if not (url and token):
        return None
    response = httpx.get(f"{url.rstrip('/')}{path}", headers={"Authorization": f"token {token}"}, timeout=timeout)
    response.raise_for_status()
    return response.json()


def user_groups(user: str, settings: Settings) -> list[str]:
    """The user's groups: from the hub API inside a session, else the settings' member lists
    (demo mode). Only for choosing and checking profiles: Slurm's own limits still apply."""
    try:
        user_model = hub_get(f"/users/{user}", timeout=10)
    except httpx.HTTPError as exc:
        raise BatchError(f"cannot read your groups from the hub ({exc}); the session's token needs the scope "
                         "read:users:groups!user") from None
    if user_model is not None:
        return list(user_model.get("groups", []))
    return [name for name, group in settings.groups.items() if user in group.users]


def home_of(user: str) -> str:
    return pwd.getpwnam(user).pw_dir


@dataclass(frozen=True)
class Submission:
    """What was (or, for a dry run, would be) submitted."""

    job_id: str | None
    script: str
    request: JobRequest
    parameter_sets: list[dict[str, Any]]
    folders: list[Path]


def submit_notebook(
    notebook: str | Path,
    *,
    profile: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    sweep: Sequence[Mapping[str, Any]] | None = None,
    resources: Mapping[str, Any] | None = None,
    groups: Iterable[str] | None = None,
    user: str | None = None,
    settings: Settings | None = None,
    dry_run: bool = False,
) -> Submission:
    """Run ``notebook`` as a Slurm job with ``parameters``; with ``sweep``, a job array with one
    task per parameter set (each set overrides ``parameters``).

    Raises :class:`~aifnb_spawners.profiles.OptionError` (profile or resources) or
    :class:`~aifnb_widgets.batch.params.ParameterError` naming the field, before anything is
    submitted; ``groups`` default to the user's groups (:func:`user_groups`).
    """
    settings = settings or platform_settings()
    user = user or slurm.current_user()
    notebook = Path(notebook).expanduser().resolve()
    if notebook.suffix != ".ipynb" or not notebook.is_file():
        raise BatchError(f"{notebook} is not a notebook file")
    unknown = sorted(set(resources or {}) - set(RESOURCE_KEYS))
    if unknown:
        raise ParameterError(unknown[0], f"not a resource; choose among {', '.join(RESOURCE_KEYS)}")
    options = {"profile": profile, **{k: v for k, v in (resources or {}).items() if v not in (None, "")}}
    request = resolve_request(settings.profiles, user_groups(user, settings) if groups is None else groups, options)
    source = notebook.read_text(encoding="utf-8")
    declared = declared_parameters(notebook)
    sets = [check_parameters(declared, {**(parameters or {}), **item}) for item in (sweep if sweep is not None else [{}])]
    if sweep is not None and not sets:
        raise ParameterError("sweep", "holds no parameter set")

    home = home_of(user)
    submitted_at = now().replace(microsecond=0)
    tasks = len(sets) if sweep is not None else None
    prefix = str(run_dir(home, notebook, submitted_at, "", None))
    script = render_job_script(
        request,
        job_name=JOB_NAME_PREFIX + stem_slug(notebook)[:40],
        homedir=home,
        run_prefix=prefix,
        log_path=f"{prefix}{'%A_%a' if tasks else '%j'}/{LOG}",
        python=sys.executable,
        tasks=tasks,
        prologue=settings.hub.prologue,
    )
    if dry_run:
        return Submission(None, script, request, sets, [])

    account = slurm.SlurmUser(user)
    job_id = slurm.submit_held(account, script)
    try:
        folders = []
        for index, values in enumerate(sets):
            folder = run_dir(home, notebook, submitted_at, job_id, index if tasks else None)
            write_file(folder / INPUT, source, owner=user)
            write_json(folder / PARAMETERS, values, owner=user)
            record = JobRecord(
                job_id=job_id, task_id=index if tasks else None, user=user, notebook=str(notebook), profile=request.profile,
                partition=request.partition, cpus=request.cpus, gpus=request.gpus, memory=request.memory,
                walltime=request.walltime, submitted_at=submitted_at,
            )
            write_record(folder, record, owner=user)
            folders.append(folder)
        slurm.release(account, job_id)
    except BaseException:
        slurm.scancel(account, job_id)
        raise
    return Submission(job_id, script, request, sets, folders)


@dataclass(frozen=True)
class JobView:
    """One executed notebook as the jobs panel shows it: the record merged with the queue."""

    record: JobRecord
    folder: Path
    state: str
    reason: str
    elapsed: str

    @property
    def slurm_id(self) -> str:
        return self.record.slurm_id

    @property
    def executed(self) -> Path | None:
        path = self.folder / EXECUTED
        return path if path.exists() else None

    @property
    def log(self) -> Path | None:
        path = self.folder / LOG
        return path if path.exists() else None

    @property
    def error(self) -> str:
        path = self.folder / ERROR
        return path.read_text(encoding="utf-8", errors="replace").strip() if path.exists() else (self.record.error or "")

    @property
    def active(self) -> bool:
        return self.state in {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED"}


def format_seconds(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _elapsed(record: JobRecord, at: datetime) -> str:
    if record.started_at is None:
        return "0:00:00"
    return format_seconds(((record.ended_at or at) - record.started_at).total_seconds())


def list_jobs(user: str | None = None) -> list[JobView]:
    """The user's runs, newest first: the state is Slurm's while the job is queued, else the
    record's (``LOST`` when a job left the queue without finishing its record)."""
    user = user or slurm.current_user()
    home = home_of(user)
    queued = {job.slurm_id: job for job in slurm.queue(slurm.SlurmUser(user))}
    views = []
    at = now()
    for folder, record in read_records(home):
        if record.user != user:
            continue
        job = queued.get(record.slurm_id)
        if job is not None:
            views.append(JobView(record, folder, job.state, job.reason, job.elapsed if job.state != "PENDING" else "0:00:00"))
        else:
            state = record.status.upper() if record.status in FINAL else "LOST"
            views.append(JobView(record, folder, state, "", _elapsed(record, at)))
    return views


def cancel_job(slurm_id: str, user: str | None = None) -> list[str]:
    """Cancel a run (``123_4``) or a whole sweep (``123``) of the user's; returns what was
    cancelled. Refused unless the id is in the user's own records AND in their own queue."""
    user = user or slurm.current_user()
    home = home_of(user)
    account = slurm.SlurmUser(user)
    mine = [(folder, r) for folder, r in read_records(home) if r.user == user and slurm_id in (r.job_id, r.slurm_id)]
    if not mine:
        raise BatchError(f"{slurm_id} is not one of your batch jobs")
    queued = {job.slurm_id: job for job in slurm.queue(account) if slurm_id in (job.job_id, job.slurm_id)}
    if not queued:
        raise BatchError(f"{slurm_id} is no longer in the queue")
    slurm.scancel(account, slurm_id)
    at = now()
    for folder, record in mine:
        record = read_record(folder)  # fresh: the job may have started since
        job = queued.get(record.slurm_id)
        if record.status == "submitted" and job is not None:
            # The runner never wrote this record and, stopped now, never will: record the end here,
            # with the start Slurm reports if the job was already running.
            started = at - timedelta(seconds=slurm.elapsed_seconds(job.elapsed)) if job.state != "PENDING" else None
            write_record(folder, record.model_copy(update={"status": "cancelled", "started_at": started, "ended_at": at}), owner=user)
    return list(queued)


def resubmit(folder: str | Path, **overrides: Any) -> Submission:
    """Submit the run in ``folder`` again: same notebook, profile, resources and parameters."""
    folder = Path(folder)
    record = read_record(folder)
    parameters = json.loads((folder / PARAMETERS).read_text(encoding="utf-8"))
    resources = {"partition": record.partition, "cpus": record.cpus, "gpus": record.gpus, "walltime": record.walltime}
    return submit_notebook(record.notebook, profile=record.profile, parameters=parameters, resources=resources, user=record.user, **overrides)


__all__ = [
    "BatchError",
    "JobView",
    "Submission",
    "cancel_job",
    "list_jobs",
    "platform_settings",
    "resubmit",
    "submit_notebook",
    "user_groups",
]
