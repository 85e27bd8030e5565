"""Submit, follow, cancel and resubmit notebook runs: the Python API under the CLI and widgets.

Every check happens before Slurm sees anything: the profile and resources through the same
:func:`~aifnb_slurm.profiles.resolve_request` as interactive sessions, the parameters against
the notebook's ``parameters`` cell. The job is submitted held and released only once its run
folders, parameters.json and job.json exist, so no job can start without its records and the
records always carry the real job id.

Whose run a folder is: the uid that owns it, never the ``user`` its (user-written) job.json
names. ``resubmit`` and ``cancel`` act as that owner; root acting for someone else's folder does
so only when asked (``as_admin``), through :func:`~aifnb_slurm.slurm.run_as_prefix` (no
system account), reading and writing below the home only through descriptors opened with
``O_NOFOLLOW`` (:mod:`aifnb_widgets.batch.layout`), and it never copies a notebook from outside
the run folder.
"""

from __future__ import annotations

import json
import os
import pwd
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aifnb_data import client as data_catalogue
from aifnb_hub.settings import Settings, load_settings
from aifnb_slurm import hub_groups
from aifnb_slurm.accounts import AccountPolicy
from aifnb_slurm.jobs import job_name
from aifnb_slurm.profiles import JobRequest, resolve_request
from aifnb_slurm.validate import DIGITS, USERNAME, check
from aifnb_widgets import mlops
from aifnb_widgets.batch import queue as slurm
from aifnb_widgets.batch.layout import (
    ERROR,
    EXECUTED,
    FINAL,
    INPUT,
    LOG,
    NOTEBOOK_LIMIT,
    PARAMETERS,
    PARAMETERS_LIMIT,
    RECORD,
    RECORD_LIMIT,
    BatchError,
    JobRecord,
    json_text,
    now,
    open_below,
    open_folder,
    opened,
    parse_record,
    read_at,
    read_regular,
    read_runs,
    record_json,
    run_dir,
    stem_slug,
    write_at,
)
from aifnb_widgets.batch.params import (
    ParameterError,
    check_parameters,
    check_sweep,
    declared_in,
)
from aifnb_widgets.batch.script import checked_path, render_job_script

#: Resource choices a batch job may adjust, as in the spawn form (the profile is separate).
RESOURCE_KEYS = ("partition", "cpus", "gpus", "walltime")
#: A job id the tools accept: a job (``123``) or one run of a sweep (``123_4``).
SLURM_ID = rf"{DIGITS}(?:_{DIGITS})?"


def platform_settings() -> Settings:
    """The settings the hub gave this session (``AIFNB_SETTINGS``), else the embedded default."""
    return load_settings(os.environ.get("AIFNB_SETTINGS") or None)


def user_groups(user: str, settings: Settings) -> list[str]:
    """The user's groups, for every job a user submits (Scale & Run, bias arrays): asked of the
    hub with the session's token (:mod:`aifnb_slurm.hub_groups`), never read from the settings
    file, which ``AIFNB_SETTINGS`` lets a user replace. Outside a session only root gets groups,
    from the settings' member lists, and a line on stderr says so. Raises
    :class:`~aifnb_slurm.hub_groups.GroupsError` otherwise."""
    members = {name: group.users for name, group in settings.groups.items()}
    found = hub_groups.user_groups(user, members)
    if found.note:
        print(f"aifnb: {found.note}", file=sys.stderr)
    return list(found.groups)


def account_of(user: str) -> pwd.struct_passwd:
    """The Unix account of ``user``; BatchError naming the user when there is none."""
    check("user", user, USERNAME, "user names are 1-32 of a-z, 0-9, '_', '-'")
    try:
        return pwd.getpwnam(user)
    except KeyError:
        raise BatchError(f"user {user!r} has no Unix account on this host") from None


def home_of(user: str) -> str:
    """The home folder of ``user`` (see :func:`account_of`)."""
    return account_of(user).pw_dir


def acting_for(user: str) -> pwd.struct_passwd | None:
    """None when the caller is ``user``; else ``user``'s account, if the account policy lets it
    run jobs (:class:`~aifnb_slurm.accounts.AccountError` for system accounts)."""
    if user == slurm.current_user():
        return None
    return AccountPolicy().check(user)


@dataclass(frozen=True)
class Submission:
    """What was (or, for a dry run, would be) submitted."""

    job_id: str | None
    script: str
    request: JobRequest
    parameter_sets: list[dict[str, Any]]
    folders: list[Path]
    user: str = ""


def check_submission(
    source: str,
    notebook: str | Path,
    *,
    groups: Iterable[str],
    settings: Settings,
    profile: Any = None,
    parameters: Mapping[str, Any] | None = None,
    sweep: Sequence[Mapping[str, Any]] | None = None,
    resources: Mapping[str, Any] | None = None,
) -> tuple[JobRequest, list[dict[str, Any]]]:
    """The Slurm request and the parameter sets of a submission of notebook JSON ``source``,
    every choice checked (pure: no file, no Slurm). Raises
    :class:`~aifnb_slurm.profiles.OptionError` or :class:`ParameterError` naming the field."""
    if resources is not None and not isinstance(resources, Mapping):
        raise ParameterError("resources", f"must be a mapping of {', '.join(RESOURCE_KEYS)} to values")
    if parameters is not None and not isinstance(parameters, Mapping):
        raise ParameterError("parameters", "must be a mapping of parameter names to values")
    if sweep is not None:
        check_sweep(sweep)
    unknown = sorted(str(key) for key in set(resources or {}) - set(RESOURCE_KEYS))
    if unknown:
        raise ParameterError(unknown[0][:40], f"not a resource; choose among {', '.join(RESOURCE_KEYS)}")
    options = {"profile": profile, **{k: v for k, v in (resources or {}).items() if v is not None and v != ""}}
    request = resolve_request(settings.profiles, groups, options)
    declared = declared_in(source, str(notebook))
    sets = [check_parameters(declared, {**(parameters or {}), **item}) for item in (sweep if sweep is not None else [{}])]
    return request, sets


def render_submission(
    request: JobRequest,
    notebook: str | Path,
    *,
    tasks: int | None,
    home: str,
    submitted_at: datetime,
    settings: Settings,
    python: str = sys.executable,
) -> str:
    """The batch script of a checked submission (pure); InvalidValue naming a path or name that
    cannot go into it."""
    prefix = str(run_dir(checked_path("homedir", home), notebook, submitted_at, "", None))
    return render_job_script(
        request,
        job_name=job_name("batch", stem_slug(notebook)[:40]),
        homedir=home,
        run_prefix=prefix,
        log_path=f"{prefix}{'%A_%a' if tasks else '%j'}/{LOG}",
        python=python,
        tasks=tasks,
        prologue=settings.hub.prologue,
    )


def submit_notebook(
    notebook: str | Path,
    *,
    profile: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    sweep: Sequence[Mapping[str, Any]] | None = None,
    resources: Mapping[str, Any] | None = None,
    data: Mapping[str, str] | None = None,
    groups: Iterable[str] | None = None,
    user: str | None = None,
    settings: Settings | None = None,
    dry_run: bool = False,
) -> Submission:
    """Run ``notebook`` as a Slurm job with ``parameters``; with ``sweep``, a job array with one
    task per parameter set (each set overrides ``parameters``). ``data`` maps parameters to
    entries of the models and datasets catalogue: each parameter gets the entry's path, the hub
    refuses an entry not shared with the user before anything is submitted, and each use is
    logged with the job id (:mod:`aifnb_data.client`).

    Raises :class:`~aifnb_slurm.profiles.OptionError` (profile or resources) or
    :class:`~aifnb_widgets.batch.params.ParameterError` naming the field, before anything is
    submitted; ``groups`` default to the user's groups (:func:`user_groups`). The notebook is
    read by the caller: root submitting for a user names the notebook itself.
    """
    notebook = Path(notebook).expanduser().resolve()
    if notebook.suffix != ".ipynb":
        raise BatchError(f"{notebook} is not a notebook file (.ipynb)")
    source = read_regular(notebook, NOTEBOOK_LIMIT)
    return _submit(
        source,
        notebook,
        profile=profile,
        parameters=parameters,
        sweep=sweep,
        resources=resources,
        data=data,
        groups=groups,
        user=user,
        settings=settings,
        dry_run=dry_run,
    )


def _submit(
    source: str,
    notebook: Path,
    *,
    profile: Any,
    parameters: Mapping[str, Any] | None,
    sweep: Sequence[Mapping[str, Any]] | None,
    resources: Mapping[str, Any] | None,
    groups: Iterable[str] | None,
    user: str | None,
    settings: Settings | None,
    dry_run: bool,
    data: Mapping[str, str] | None = None,
) -> Submission:
    if data is not None and not (isinstance(data, Mapping) and all(isinstance(v, str) for v in data.values())):
        raise ParameterError("data", "must be a mapping of parameter names to catalogue entry names")
    if data:
        # The hub checks each entry against the user's groups here, before anything is submitted.
        parameters = {**(parameters or {}), **{param: data_catalogue.for_job(name) for param, name in data.items()}}
    settings = settings or platform_settings()
    user = user or slurm.current_user()
    groups = user_groups(user, settings) if groups is None else groups
    request, sets = check_submission(
        source,
        notebook,
        groups=groups,
        settings=settings,
        profile=profile,
        parameters=parameters,
        sweep=sweep,
        resources=resources,
    )
    home = home_of(user)
    submitted_at = now().replace(microsecond=0)
    tasks = len(sets) if sweep is not None else None
    script = render_submission(request, notebook, tasks=tasks, home=home, submitted_at=submitted_at, settings=settings)
    if dry_run:
        return Submission(None, script, request, sets, [], user)
    # With the hub's MLflow service: each run logs as one MLflow run, a sweep's under one parent.
    # Only for the caller's own jobs: the token is the caller's, and root acting for a user must
    # not hand the user its own identity.
    credential = None
    if user == slurm.current_user():
        credential = mlops.submission_credential(
            slurm.elapsed_seconds(request.walltime),
            sweep_name=f"sweep of {notebook.name}" if tasks else None,
            parameter_sets=sets,
        )

    def runs(job_id: str) -> list[RunToWrite]:
        for name in (data or {}).values():
            data_catalogue.resolve_for(name, "batch", job_id)  # the access log's line, with the job id
        return [
            (
                run_dir(home, notebook, submitted_at, job_id, index if tasks else None),
                new_record(
                    request,
                    job_id=job_id,
                    task_id=index if tasks else None,
                    user=user,
                    submitted_at=submitted_at,
                    notebook=str(notebook),
                    data=dict(data or {}),
                ),
                {INPUT: source, PARAMETERS: json_text(values)},
            )
            for index, values in enumerate(sets)
        ]

    try:
        job_id, folders = submit_recorded(user, script, runs, credential=credential)
    except BaseException:
        mlops.abandon_sweep(credential)
        raise
    return Submission(job_id, script, request, sets, folders, user)


#: A run folder to write before its job is released: the folder, its record, other files (name to text).
RunToWrite = tuple[Path, JobRecord, Mapping[str, str]]


def new_record(request: JobRequest, **fields: Any) -> JobRecord:
    """The record of a run just submitted with ``request`` (its resources), plus ``fields``."""
    return JobRecord(
        profile=request.profile,
        partition=request.partition,
        cpus=request.cpus,
        gpus=request.gpus,
        memory=request.memory,
        walltime=request.walltime,
        **fields,
    )


def submit_recorded(
    user: str, script: str, runs: Callable[[str], list[RunToWrite]], credential: Mapping[str, str] | None = None
) -> tuple[str, list[Path]]:
    """Submit ``script`` held as ``user``, write the folders ``runs(job_id)`` names below the
    user's home (files, the MLflow ``credential`` if any as a 0600 file, then job.json), then
    release the job; on any failure the job is cancelled. Every platform job that leaves records
    (notebook runs, bias arrays) goes through here, so none starts without its records and the
    records carry the real job id."""
    home = home_of(user)
    owner = acting_for(user)
    account = slurm.SlurmUser(user)
    job_id = slurm.submit_held(account, script)
    try:
        folders = []
        for folder, record, files in runs(job_id):
            with opened(open_below(home, folder, create=True, owner=owner)) as fd:
                for name, text in files.items():
                    write_at(fd, name, text, owner)
                if credential:
                    mlops.write_credential_at(fd, credential, owner.pw_uid if owner else None)
                write_at(fd, RECORD, record_json(record), owner)
            folders.append(folder)
        slurm.release(account, job_id)
    except BaseException:
        slurm.scancel(account, job_id)
        raise
    return job_id, folders


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
    def kind(self) -> str:
        """``batch`` (a notebook run) or ``bias`` (one model of a bias array)."""
        return self.record.kind

    @property
    def executed(self) -> Path | None:
        """The executed notebook, or a bias task's report (in the array's job folder)."""
        path = self.folder / EXECUTED
        if self.kind == "bias":
            path = Path(self.record.job_dir or "/") / "tasks" / str(self.record.task_id) / "report.html"
        return path if path.exists() else None

    @property
    def log(self) -> Path | None:
        """The job's log: job.log in the run folder, or a bias task's in the array's logs/."""
        path = self.folder / LOG
        if self.kind == "bias":
            path = Path(self.record.job_dir or "/") / "logs" / f"{self.record.slurm_id}.out"
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


def _runs_of(user: str) -> tuple[str, pwd.struct_passwd, list]:
    """The user's home, account, and the runs in it that the user's uid owns (folder and record):
    a job.json that names the user proves nothing, the user's job writes it."""
    home = home_of(user)
    account = account_of(user)
    return home, account, [run for run in read_runs(home) if run.uid == account.pw_uid]


def list_jobs(user: str | None = None) -> list[JobView]:
    """The user's runs, newest first: the state is Slurm's while the job is queued, else the
    record's (``LOST`` when a job left the queue without finishing its record)."""
    user = user or slurm.current_user()
    _, _, runs = _runs_of(user)
    queued = {job.slurm_id: job for job in slurm.queue(slurm.SlurmUser(user))}
    views = []
    at = now()
    for run in runs:
        record = run.record
        job = queued.get(record.slurm_id)
        if job is not None:
            views.append(JobView(record, run.folder, job.state, job.reason, job.elapsed if job.state != "PENDING" else "0:00:00"))
        else:
            state = record.status.upper() if record.status in FINAL else "LOST"
            views.append(JobView(record, run.folder, state, "", _elapsed(record, at)))
    return views


def cancel_job(slurm_id: str, user: str | None = None) -> list[str]:
    """Cancel a run (``123_4``) or a whole sweep (``123``) of the user's; returns what was
    cancelled. Refused unless the id is in runs the user owns AND in their own queue."""
    check("job_id", slurm_id, SLURM_ID, "a job id such as 123, or one run of a sweep such as 123_4")
    user = user or slurm.current_user()
    home, _, runs = _runs_of(user)
    owner = acting_for(user)
    account = slurm.SlurmUser(user)
    mine = [run for run in runs if slurm_id in (run.record.job_id, run.record.slurm_id)]
    if not mine:
        raise BatchError(f"{slurm_id} is not one of your batch jobs")
    queued = {job.slurm_id: job for job in slurm.queue(account) if slurm_id in (job.job_id, job.slurm_id)}
    if not queued:
        raise BatchError(f"{slurm_id} is no longer in the queue")
    slurm.scancel(account, slurm_id)
    at = now()
    for run in mine:
        with opened(open_below(home, run.folder, owner=owner)) as fd:
            record = parse_record(read_at(fd, RECORD, RECORD_LIMIT)[0], run.folder / RECORD)  # fresh: it may have started
            job = queued.get(record.slurm_id)
            if record.status == "submitted" and job is not None:
                # The runner never wrote this record and, stopped now, never will: record the end
                # here, with the start Slurm reports if the job was already running.
                started = at - timedelta(seconds=slurm.elapsed_seconds(job.elapsed)) if job.state != "PENDING" else None
                update = {"status": "cancelled", "started_at": started, "ended_at": at}
                write_at(fd, RECORD, record_json(record.model_copy(update=update)), owner)
    return list(queued)


@dataclass(frozen=True)
class RunFiles:
    """What a resubmission takes from a run folder, read through one descriptor."""

    owner: pwd.struct_passwd
    record: JobRecord
    parameters: dict[str, Any]
    source: str


def read_run_folder(folder: str | Path, *, as_admin: bool = False) -> RunFiles:
    """The owner, record, parameters and input notebook of a run folder, read as the folder's
    owner would see them.

    The owner is the uid of the folder (``lstat``: a link is refused), never the ``user`` the
    record names. Someone else's folder is read only with ``as_admin`` (an admin's tools, run as
    root), and then only when the folder is the one reached from the owner's home without a link,
    its files are regular files owned by the owner, and the owner may run jobs.
    """
    folder = Path(folder).absolute()
    caller = slurm.current_user()
    try:
        fd = open_folder(folder)
    except FileNotFoundError:
        raise BatchError(f"{folder} does not exist") from None
    except PermissionError:
        raise BatchError(f"{folder} is not readable by you ({caller})") from None
    with opened(fd):
        uid = os.fstat(fd).st_uid
        try:
            owner = pwd.getpwuid(uid)
        except KeyError:
            raise BatchError(f"{folder} belongs to uid {uid}, which has no account on this host") from None
        acting = owner.pw_name != caller
        if acting:
            if not as_admin:
                raise BatchError(
                    f"{folder} belongs to {owner.pw_name}, not to you ({caller}); only {owner.pw_name} can "
                    f"resubmit it, or an admin as root with --as-admin (the job then runs as {owner.pw_name})"
                )
            AccountPolicy().check(owner.pw_name)
            _same_folder_below_home(fd, folder, home_of(owner.pw_name))
        files = {}
        for name, limit in ((RECORD, RECORD_LIMIT), (PARAMETERS, PARAMETERS_LIMIT), (INPUT, NOTEBOOK_LIMIT)):
            try:
                text, info = read_at(fd, name, limit)
            except FileNotFoundError:
                raise BatchError(f"{folder} has no {name}: it is not a run folder") from None
            except PermissionError:
                raise BatchError(f"{folder / name} is not readable by you ({caller})") from None
            except BatchError as exc:
                raise BatchError(f"{folder}: {exc}") from None
            if acting and info.st_uid != owner.pw_uid:
                raise BatchError(f"{folder / name} is not owned by {owner.pw_name}, who owns the folder; refusing")
            if name == RECORD and (kind := parse_record(text, folder / RECORD).kind) != "batch":
                raise BatchError(f"{folder} is a {kind} run, not a notebook run; submit it again with 'aifnb {kind} submit'")
            files[name] = text
    try:
        parameters = json.loads(files[PARAMETERS])
    except json.JSONDecodeError:
        raise BatchError(f"{folder / PARAMETERS} is not JSON") from None
    if not isinstance(parameters, dict):
        raise BatchError(f"{folder / PARAMETERS} is not a mapping of parameter names to values")
    return RunFiles(owner, parse_record(files[RECORD], folder / RECORD), parameters, files[INPUT])


def _same_folder_below_home(fd: int, folder: Path, home: str) -> None:
    """Refuse unless ``fd`` is the folder reached from ``home`` one component at a time without
    following a link: a link swapped into the path must not lend one user's run to another."""
    try:
        with opened(open_below(home, folder)) as again:
            same = os.path.samestat(os.fstat(fd), os.fstat(again))
    except FileNotFoundError:
        same = False
    if not same:
        raise BatchError(f"{folder} is not a run folder inside its owner's home {home} (reached without links); refusing")


def resubmit(
    folder: str | Path,
    *,
    as_admin: bool = False,
    groups: Iterable[str] | None = None,
    settings: Settings | None = None,
    dry_run: bool = False,
) -> Submission:
    """Submit the run in ``folder`` again, as the folder's owner: the notebook as it was
    submitted (the folder's input.ipynb), the same profile, resources and parameters, all
    checked again; parameters that came from the data catalogue are resolved again, so access
    is checked and the use logged as for a first submission. The record's ``user`` and
    ``notebook`` are not trusted: the notebook path only names the new run folder and the job's
    working folder."""
    run = read_run_folder(folder, as_admin=as_admin)
    record = run.record
    resources = {"partition": record.partition, "cpus": record.cpus, "gpus": record.gpus, "walltime": record.walltime}
    return _submit(
        run.source,
        Path(record.notebook),
        profile=record.profile,
        parameters=run.parameters,
        sweep=None,
        resources=resources,
        groups=groups,
        user=run.owner.pw_name,
        settings=settings,
        dry_run=dry_run,
        data=record.data or None,
    )


__all__ = [
    "BatchError",
    "JobView",
    "RunFiles",
    "Submission",
    "account_of",
    "cancel_job",
    "check_submission",
    "list_jobs",
    "new_record",
    "platform_settings",
    "read_run_folder",
    "render_submission",
    "resubmit",
    "submit_notebook",
    "submit_recorded",
    "user_groups",
]
