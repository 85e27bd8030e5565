"""Where a batch run's files live, ``job.json`` (the record every other tool reads), and the only
way the batch tools open anything below a user's home.

``~/ai-factory-runs/<notebook-stem>/<submit-time>-<jobid>[_<task>]/`` holds ``input.ipynb`` (the
notebook as it was at submission: editing it while a sweep waits changes nothing), ``executed.ipynb``,
``job.log``, ``parameters.json``, ``job.json`` and, after a failure, ``error.txt``: one folder per
executed notebook, named so that ``ls`` sorts runs by time and the job id finds the folder.

Everything below a home is the user's to change, while root reads and writes there for them (an
admin's ``resubmit --as-admin``, the usage report, the tests). So every open below a home goes one
component at a time through directory file descriptors with ``O_NOFOLLOW`` (a link swapped in
between a check and a use cannot redirect root), reads accept regular files only, up to a size
limit (a FIFO named ``job.json`` would block a reader forever, ``/dev/zero`` never ends), and new
files and folders get the process's umask, never a forced mode. Who owns a run is the uid of its
files, never the ``user`` a record claims: ``job.json`` is written by the user's own job.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
import re
import secrets
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aifnb_data.access import DataAccessError
from aifnb_data.cards import ENTRY_NAME, NAME_RULE, CatalogueError
from aifnb_slurm.accounts import AccountError
from aifnb_slurm.hub_groups import GroupsError
from aifnb_slurm.jobs import PREFIX
from aifnb_slurm.profiles import OptionError
from aifnb_slurm.slurm import SlurmCommandError
from aifnb_slurm.validate import DIGITS, USERNAME, InvalidValue, check

#: A notebook parameter's name as a record may hold it (papermill parameters are Python names).
PARAMETER_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,63}"

RUNS_DIR = "ai-factory-runs"
RECORD = "job.json"
PARAMETERS = "parameters.json"
INPUT = "input.ipynb"
EXECUTED = "executed.ipynb"
LOG = "job.log"
ERROR = "error.txt"
#: Prefix of every notebook run's Slurm name (:mod:`aifnb_slurm.jobs`: ``aifnb-<kind>-<label>``).
JOB_NAME_PREFIX = f"{PREFIX}batch-"
STAMP = "%Y%m%dT%H%M%SZ"

#: Largest job.json read, in bytes (a record is well under 4 KiB; its error text is capped at 2000).
RECORD_LIMIT = 64 * 1024
#: Largest parameters.json read, in bytes.
PARAMETERS_LIMIT = 1024 * 1024
#: Largest notebook read, in bytes (a notebook with its outputs stripped is rarely over 1 MiB).
NOTEBOOK_LIMIT = 64 * 1024 * 1024

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

Status = Literal["submitted", "running", "completed", "failed", "cancelled"]
#: Platform jobs that leave run records (sessions are in the hub's usage log instead).
RunKind = Literal["batch", "bias"]
FINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


class BatchError(ValueError):
    """A request the batch tools refuse: not the user's job or folder, an unsafe or unreadable
    run file, no such notebook, Slurm said no. The message says what to do."""


#: The project's own refusals, each naming what to fix (the CLI and the form show them as
#: messages); anything else is a bug and keeps its traceback.
# DataAccessError and CatalogueError: a catalogue entry refused or unknown (aifnb_data), e.g. in --data.
USER_ERRORS = (
    OptionError,
    BatchError,
    InvalidValue,
    AccountError,
    GroupsError,
    SlurmCommandError,
    DataAccessError,
    CatalogueError,
)


class JobRecord(BaseModel):
    """``job.json``: what was submitted, with which resources, and when it ran.

    Written by the user's own job, so nothing in it proves ownership or usage by itself.
    """

    model_config = ConfigDict(extra="forbid")
    kind: RunKind = Field("batch", description="What the job runs: a notebook (batch) or one model of a bias array (bias)")
    job_id: str = Field(description="Slurm job id (the array's id for a sweep or a bias array)")
    task_id: int | None = Field(None, ge=0, description="Array task index; None for a single job")
    user: str
    notebook: str = Field("", description="Absolute path of the notebook that was submitted (batch)")
    job_dir: str | None = Field(None, description="Folder of a bias array: scenario, models, logs and results (bias)")
    profile: str
    partition: str
    cpus: int
    gpus: int
    memory: str
    walltime: str
    submitted_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    status: Status = "submitted"
    error: str | None = None
    data: dict[str, str] = Field(
        default_factory=dict,
        description="Parameters set from the data catalogue, parameter to entry name: a resubmit resolves them again",
    )

    @field_validator("data")
    @classmethod
    def _data(cls, value: dict[str, str]) -> dict[str, str]:
        for parameter, entry in value.items():
            check("data", parameter, PARAMETER_NAME, "parameter names are ASCII Python identifiers")
            check("data", entry, ENTRY_NAME, NAME_RULE)
        return value

    @field_validator("job_id")
    @classmethod
    def _job_id(cls, value: str) -> str:
        return check("job_id", value, DIGITS, "a Slurm job id is digits 0-9 only")

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        return check("user", value, USERNAME, "user names are 1-32 of a-z, 0-9, '_', '-'")

    @model_validator(mode="after")
    def _what_it_runs(self) -> JobRecord:
        if self.kind == "batch" and not self.notebook:
            raise ValueError("a batch run's record names its notebook")
        if self.kind == "bias" and not self.job_dir:
            raise ValueError("a bias run's record names its job_dir")
        return self

    @property
    def label(self) -> str:
        """What the jobs panel shows for the run: the notebook's or the bias array's folder name."""
        return Path(self.notebook if self.kind == "batch" else self.job_dir or "").name

    @property
    def slurm_id(self) -> str:
        """The id squeue and scancel use for this one notebook (``123`` or ``123_4``)."""
        return self.job_id if self.task_id is None else f"{self.job_id}_{self.task_id}"


def parse_record(text: str, where: str | Path) -> JobRecord:
    """``text`` as a record, or :class:`BatchError` naming the file and the first bad field."""
    try:
        return JobRecord.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "record"
        raise BatchError(f"{where} is not a valid run record: {field}: {first['msg']}") from None


def now() -> datetime:
    return datetime.now(UTC)


def stem_slug(notebook: str | Path) -> str:
    """The notebook's stem with anything but ``[A-Za-z0-9_.-]`` replaced: it becomes a folder
    and part of an ``#SBATCH`` line, where neither quoting nor spaces are possible."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", Path(notebook).stem, flags=re.ASCII).lstrip(".")[:48] or "notebook"


def runs_root(home: str | Path) -> Path:
    return Path(home) / RUNS_DIR


def run_dir(home: str | Path, notebook: str | Path, submitted_at: datetime, job_id: str, task_id: int | None) -> Path:
    suffix = job_id if task_id is None else f"{job_id}_{task_id}"
    return runs_root(home) / stem_slug(notebook) / f"{submitted_at.strftime(STAMP)}-{suffix}"


# --- Opening below a home without following links -------------------------------------------


def _refused(path: str | Path, exc: OSError) -> BatchError:
    return BatchError(f"{path} is a symbolic link or not a folder; refusing to go through it ({exc.strerror})")


def open_folder(path: str | Path, dir_fd: int | None = None) -> int:
    """A descriptor of folder ``path`` (relative to ``dir_fd`` when given); a symbolic link as
    the last component raises :class:`BatchError`. The caller closes it."""
    try:
        return os.open(path, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise _refused(path, exc) from None
        raise


def open_below(root: str | Path, folder: str | Path, *, create: bool = False, owner: pwd.struct_passwd | None = None) -> int:
    """A descriptor of ``folder``, reached from ``root`` one component at a time with
    ``O_NOFOLLOW`` (``root`` itself, e.g. a home, is trusted). With ``create``, missing folders
    are made with the process's umask and, when ``owner`` is another user, handed to them through
    the descriptor (``fchown``), never by path. The caller closes it."""
    root, folder = Path(root), Path(folder)
    try:
        parts = folder.relative_to(root).parts
    except ValueError:
        raise BatchError(f"{folder} is not inside {root}") from None
    if ".." in parts:
        raise BatchError(f"{folder} has a '..' component")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    reached = root
    try:
        for part in parts:
            reached = reached / part
            child = _open_child(fd, part, reached, create, owner)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_child(fd: int, name: str, path: Path, create: bool, owner: pwd.struct_passwd | None) -> int:
    try:
        return open_folder(name, dir_fd=fd)
    except BatchError:
        raise BatchError(f"{path} is a symbolic link or not a folder; refusing to go through it") from None
    except FileNotFoundError:
        if not create:
            raise
    try:
        os.mkdir(name, 0o777, dir_fd=fd)
    except FileExistsError:
        pass  # made meanwhile: opened below without following a link all the same
    try:
        child = open_folder(name, dir_fd=fd)
    except BatchError:
        raise BatchError(f"{path} is a symbolic link or not a folder; refusing to go through it") from None
    if _acting(owner):
        os.fchown(child, owner.pw_uid, owner.pw_gid)
    return child


@contextmanager
def opened(fd: int) -> Iterator[int]:
    """Close ``fd`` when the block ends."""
    try:
        yield fd
    finally:
        os.close(fd)


def open_regular(name: str | Path, dir_fd: int | None = None, *, follow: bool = False) -> int:
    """A read descriptor of regular file ``name`` (relative to ``dir_fd``). The open never
    blocks (``O_NONBLOCK``, then checked with ``fstat``): a FIFO, device or folder raises
    :class:`BatchError` at once; unless ``follow``, neither is a link followed. The caller closes it."""
    flags = _READ_FLAGS if not follow else _READ_FLAGS & ~os.O_NOFOLLOW
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BatchError(f"{name} is a symbolic link; refusing to read it") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BatchError(f"{name} is not a regular file; refusing to read it")
    os.set_blocking(fd, True)
    return fd


def read_at(dir_fd: int | None, name: str | Path, limit: int, *, follow: bool = False) -> tuple[str, os.stat_result]:
    """The UTF-8 text of regular file ``name`` (see :func:`open_regular`) and its stat, at most
    ``limit`` bytes (the size is checked before reading, and again while reading)."""
    fd = open_regular(name, dir_fd, follow=follow)
    with opened(fd):
        info = os.fstat(fd)
        if info.st_size > limit:
            raise BatchError(f"{name} is {info.st_size} bytes, more than the {limit} allowed")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    if size > limit:
        raise BatchError(f"{name} grew past the {limit} bytes allowed while it was read")
    try:
        return b"".join(chunks).decode("utf-8"), info
    except UnicodeDecodeError:
        raise BatchError(f"{name} is not UTF-8 text") from None


def read_regular(path: str | Path, limit: int) -> str:
    """The text of a file the caller names and reads as themselves (a sweep, a notebook): links
    are followed as the caller would, but only a regular file is read, at most ``limit`` bytes,
    so a FIFO never blocks the tools."""
    try:
        return read_at(None, path, limit, follow=True)[0]
    except FileNotFoundError:
        raise BatchError(f"{path} does not exist") from None
    except PermissionError:
        raise BatchError(f"{path} is not readable by you") from None


def write_at(dir_fd: int, name: str, text: str, owner: pwd.struct_passwd | None = None) -> None:
    """Write ``name`` in folder ``dir_fd`` atomically (the jobs panel may read while the job
    writes): a new temporary file (``O_EXCL|O_NOFOLLOW``, mode 0666 less the umask), handed to
    ``owner`` through its descriptor when that is another user, then renamed over ``name``
    (a rename replaces a link, it never writes through one)."""
    temporary = f".{name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(temporary, _CREATE_FLAGS, 0o666, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", closefd=True) as handle:
            if _acting(owner):
                os.fchown(handle.fileno(), owner.pw_uid, owner.pw_gid)
            handle.write(text)
        os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        raise


def _acting(owner: pwd.struct_passwd | None) -> bool:
    """Root writing for another user (an admin's tools, the tests); a session never is."""
    return owner is not None and owner.pw_uid != os.geteuid()


def record_json(record: JobRecord) -> str:
    return json.dumps(record.model_dump(mode="json"), indent=2) + "\n"


def json_text(data: Any) -> str:
    return json.dumps(data, indent=2, default=str) + "\n"


# --- Records ---------------------------------------------------------------------------------


def read_record(folder: str | Path) -> JobRecord:
    """The record of a run folder, read as the caller (no link as the folder or the file)."""
    with opened(open_folder(folder)) as fd:
        text, _ = read_at(fd, RECORD, RECORD_LIMIT)
    return parse_record(text, Path(folder, RECORD))


def write_record(folder: str | Path, record: JobRecord) -> None:
    """Write a run's record as the caller (the job's runner, a session): folders missing on the
    way are made with the caller's umask."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    with opened(open_folder(folder)) as fd:
        write_at(fd, RECORD, record_json(record))


@dataclass(frozen=True)
class Run:
    """A run folder with its record and the uid that owns both (None when they differ)."""

    folder: Path
    record: JobRecord
    uid: int | None


def read_runs(home: str | Path, skipped: list[tuple[Path, str]] | None = None) -> list[Run]:
    """Every run below ``home``, newest first, found and read without following any link.

    A run folder or record that cannot be used (a link, a FIFO, too large, not a record) is
    left out, and noted in ``skipped`` with the reason when the caller asks.
    """
    root = runs_root(home)
    found: list[Run] = []

    def skip(path: Path, reason: str) -> None:
        if skipped is not None:
            skipped.append((path, reason))

    try:
        top = open_below(home, root)
    except FileNotFoundError:
        return []
    except (BatchError, PermissionError) as exc:
        skip(root, str(exc))
        return []
    with opened(top):
        for stem, stem_fd in _subfolders(top, root, skip):
            with opened(stem_fd):
                for name, run_fd in _subfolders(stem_fd, root / stem, skip):
                    with opened(run_fd):
                        run = _read_run(run_fd, root / stem / name, skip)
                    if run is not None:
                        found.append(run)
    return sorted(found, key=lambda run: (run.record.submitted_at, run.record.task_id or 0), reverse=True)


def _read_run(fd: int, folder: Path, skip: Callable[[Path, str], None]) -> Run | None:
    try:
        text, info = read_at(fd, RECORD, RECORD_LIMIT)
        record = parse_record(text, folder / RECORD)
    except FileNotFoundError:
        return None  # not a run folder
    except (BatchError, PermissionError) as exc:
        skip(folder, str(exc))
        return None
    folder_uid = os.fstat(fd).st_uid
    return Run(folder, record, info.st_uid if info.st_uid == folder_uid else None)


def _subfolders(fd: int, where: Path, skip: Callable[[Path, str], None]) -> Iterator[tuple[str, int]]:
    """The real (not linked) subfolders of ``fd`` by name, each opened in turn; the caller
    closes each descriptor before asking for the next."""
    for name in sorted(entry.name for entry in os.scandir(fd) if entry.is_dir(follow_symlinks=False)):
        try:
            yield name, open_folder(name, dir_fd=fd)
        except (BatchError, FileNotFoundError, PermissionError) as exc:
            skip(where / name, str(exc))


def read_records(home: str | Path) -> list[tuple[Path, JobRecord]]:
    """``(folder, record)`` of every readable run of a home, newest first (see :func:`read_runs`)."""
    return [(run.folder, run.record) for run in read_runs(home)]
