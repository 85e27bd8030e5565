"""Where a batch run's files live, and ``job.json``, the record every other tool reads.

``~/ai-factory-runs/<notebook-stem>/<submit-time>-<jobid>[_<task>]/`` holds ``input.ipynb`` (the
notebook as it was at submission: editing it while a sweep waits changes nothing), ``executed.ipynb``,
``job.log``, ``parameters.json``, ``job.json`` and, after a failure, ``error.txt``: one folder per
executed notebook, named so that ``ls`` sorts runs by time and the job id finds the folder.
The records are the platform's own accounting where Slurm has none, and the proof of ownership
the jobs panel requires before it cancels anything.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RUNS_DIR = "ai-factory-runs"
RECORD = "job.json"
PARAMETERS = "parameters.json"
INPUT = "input.ipynb"
EXECUTED = "executed.ipynb"
LOG = "job.log"
ERROR = "error.txt"
#: Prefix of every batch job's Slurm name: the jobs panel lists only these.
JOB_NAME_PREFIX = "aifnb-batch-"
STAMP = "%Y%m%dT%H%M%SZ"

Status = Literal["submitted", "running", "completed", "failed", "cancelled"]
FINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


class JobRecord(BaseModel):
    """``job.json``: what was submitted, with which resources, and when it ran."""

    model_config = ConfigDict(extra="forbid")
    job_id: str = Field(pattern=r"^\d+$", description="Slurm job id (the array's id for a sweep)")
    task_id: int | None = Field(None, ge=0, description="Array task index; None for a single job")
    user: str
    notebook: str = Field(description="Absolute path of the notebook that was submitted")
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

    @property
    def slurm_id(self) -> str:
        """The id squeue and scancel use for this one notebook (``123`` or ``123_4``)."""
        return self.job_id if self.task_id is None else f"{self.job_id}_{self.task_id}"


def now() -> datetime:
    return datetime.now(timezone.utc)


def stem_slug(notebook: str | Path) -> str:
    """The notebook's stem with anything but ``[A-Za-z0-9_.-]`` replaced: it becomes a folder
    and part of an ``#SBATCH`` line, where neither quoting nor spaces are possible."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", Path(notebook).stem).lstrip(".")[:48] or "notebook"


def runs_root(home: str | Path) -> Path:
    return Path(home) / RUNS_DIR


def run_dir(home: str | Path, notebook: str | Path, submitted_at: datetime, job_id: str, task_id: int | None) -> Path:
    suffix = job_id if task_id is None else f"{job_id}_{task_id}"
    return runs_root(home) / stem_slug(notebook) / f"{submitted_at.strftime(STAMP)}-{suffix}"


def read_record(folder: str | Path) -> JobRecord:
    return JobRecord.model_validate_json(Path(folder, RECORD).read_text(encoding="utf-8"))


def read_records(home: str | Path) -> list[tuple[Path, JobRecord]]:
    """Every readable run of a home, newest first; unreadable or foreign files are skipped."""
    found = []
    for path in runs_root(home).glob(f"*/*/{RECORD}"):
        try:
            found.append((path.parent, read_record(path.parent)))
        except (OSError, ValueError):
            continue
    return sorted(found, key=lambda item: (item[1].submitted_at, item[1].task_id or 0), reverse=True)


def write_file(path: Path, text: str, owner: str | None = None) -> None:
    """Write atomically (the jobs panel may read while the job writes); as root acting for
    ``owner``, hand the file and any new parent folders to that user.

    The temporary file comes from mkstemp (O_EXCL, never follows a link) and no folder on the
    way may be a symlink, so root never writes where a user's link points.
    """
    make_dirs(path.parent, owner)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    _chown(Path(tmp), owner)
    os.replace(tmp, path)


def write_json(path: Path, data: Any, owner: str | None = None) -> None:
    write_file(path, json.dumps(data, indent=2, default=str) + "\n", owner)


def write_record(folder: Path, record: JobRecord, owner: str | None = None) -> None:
    write_json(folder / RECORD, record.model_dump(mode="json"), owner)


def make_dirs(folder: Path, owner: str | None = None) -> None:
    if _acting_for(owner):
        for path in [folder, *folder.parents]:
            if path.is_symlink():
                raise PermissionError(f"{path} is a symbolic link; refusing to write through it for {owner}")
            if path.name == RUNS_DIR:
                break
    missing = [path for path in [folder, *folder.parents] if not path.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    for created in missing:
        _chown(created, owner)


def _acting_for(owner: str | None) -> bool:
    """Root writing in another user's home (the tests, an admin's tools); a session never is."""
    return bool(owner) and os.geteuid() == 0 and owner != pwd.getpwuid(0).pw_name


def _chown(path: Path, owner: str | None) -> None:
    if _acting_for(owner):
        entry = pwd.getpwnam(owner)
        os.chown(path, entry.pw_uid, entry.pw_gid)
