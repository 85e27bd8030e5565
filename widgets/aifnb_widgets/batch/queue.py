"""The batch tools' conversation with Slurm, always as the user the jobs belong to.

The helpers of :mod:`aifnb_slurm.slurm` are async; notebooks, widgets' button handlers and
the command line are not, and a kernel already runs an event loop, so :func:`run_sync` runs the
call on a private loop in a worker thread when one is running here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import pwd
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aifnb_slurm.jobs import Kind, job_kind
from aifnb_slurm.slurm import run_as_prefix, run_slurm
from aifnb_slurm.validate import DIGITS, matches

T = TypeVar("T")
TIMEOUT = 30.0
SQUEUE_FORMAT = "%i|%F|%K|%j|%T|%r|%M"
#: Kinds of platform job the batch tools list and cancel (sessions are the hub's to stop).
LISTED_KINDS: frozenset[Kind] = frozenset({"batch", "bias"})


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def current_user() -> str:
    """The user this process runs as, from its uid: $USER can be set to anything."""
    return pwd.getpwuid(os.geteuid()).pw_name


@dataclass(frozen=True)
class SlurmUser:
    """Runs Slurm commands as ``name``: directly when we are that user, else through
    :func:`run_as_prefix` (root acting for a user, as the tests and an admin do), which refuses
    system accounts before anything runs."""

    name: str

    @property
    def prefix(self) -> list[str]:
        return [] if self.name == current_user() else run_as_prefix(self.name)

    def run(self, argv: Sequence[str], stdin: str | None = None, env: Mapping[str, str] | None = None) -> str:
        return run_sync(run_slurm([*self.prefix, *argv], stdin=stdin, env=env, timeout=TIMEOUT))


@dataclass(frozen=True)
class QueuedJob:
    """One line of ``squeue -r``: a job, or one task of an array."""

    slurm_id: str
    job_id: str
    task_id: int | None
    name: str
    state: str
    reason: str
    elapsed: str

    @property
    def kind(self) -> Kind | None:
        """``batch`` or ``bias``, from the job's name (:mod:`aifnb_slurm.jobs`)."""
        return job_kind(self.name)


def elapsed_seconds(text: str) -> int:
    """Seconds in squeue's ``%M`` (``M:SS``, ``H:MM:SS`` or ``D-HH:MM:SS``); 0 when unreadable."""
    days, _, clock = text.rpartition("-")
    parts = clock.split(":")
    if not all(matches(DIGITS, p) for p in parts) or not 1 <= len(parts) <= 3 or (days and not matches(DIGITS, days)):
        return 0
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return seconds + int(days or 0) * 86400


def parse_squeue(output: str) -> list[QueuedJob]:
    """Lines of ``squeue -r -h -o SQUEUE_FORMAT``, keeping only the platform's notebook runs and
    bias arrays (named ``aifnb-batch-*`` and ``aifnb-bias-*``)."""
    jobs = []
    for line in output.splitlines():
        fields = line.split("|")
        if len(fields) != 7 or job_kind(fields[3]) not in LISTED_KINDS:
            continue
        slurm_id, job_id, task, name, state, reason, elapsed = fields
        jobs.append(
            QueuedJob(
                slurm_id,
                job_id,
                int(task) if matches(DIGITS, task) else None,
                name,
                state,
                "" if reason == "None" else reason,
                elapsed,
            )
        )
    return jobs


#: The session's own credentials. sbatch hands its environment to the job (bias arrays keep it, for
#: an endpoint's OPENAI_API_KEY) and Slurm stores it with the job; no job needs these: one that logs
#: to MLflow gets its own credential in its run folder, and catalogue entries are resolved before.
SESSION_SECRETS = ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN", "MLFLOW_TRACKING_TOKEN")


def submit_held(user: SlurmUser, script: str) -> str:
    """``sbatch --hold``: the job waits until its run folders are written, then :func:`release`."""
    env = {name: value for name, value in os.environ.items() if name not in SESSION_SECRETS}
    out = user.run(["sbatch", "--parsable", "--hold"], stdin=script, env=env)
    return out.split(";")[0].strip()


def release(user: SlurmUser, job_id: str) -> None:
    user.run(["scontrol", "release", job_id])


def queue(user: SlurmUser) -> list[QueuedJob]:
    """The user's own queued batch jobs (``squeue -u``), whatever else is in the queue."""
    return parse_squeue(user.run(["squeue", "-r", "-h", "-u", user.name, "-o", SQUEUE_FORMAT]))


def scancel(user: SlurmUser, slurm_id: str) -> None:
    user.run(["scancel", slurm_id])


__all__ = ["SESSION_SECRETS", "QueuedJob", "SlurmUser", "parse_squeue", "queue", "release", "run_sync", "scancel", "submit_held"]
