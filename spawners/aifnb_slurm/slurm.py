"""Slurm's command-line tools, called without a shell and with a time limit.

batchspawner builds shell strings and waits on them without a bound; here every call is an argv
list (nothing a user typed can become shell syntax) run as the target user through a prefix
such as ``runuser -u NAME --``, and killed when Slurm does not answer in time. The session
spawner and the batch-job tools share these helpers.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from traitlets import Float
from traitlets.config import SingletonConfigurable

from .accounts import AccountPolicy
from .validate import DIGITS, matches


class SlurmCommandError(RuntimeError):
    """A Slurm command that failed or did not answer; ``transient`` when retrying may help."""

    def __init__(self, argv: Sequence[str], message: str, *, returncode: int | None, transient: bool):
        super().__init__(f"{argv[0] if argv else '?'}: {message}")
        self.stderr = message
        self.returncode = returncode
        self.transient = transient


# Messages with which Slurm's clients report that the controller, not the job, is the problem.
_TRANSIENT = re.compile(
    r"Socket timed out|Unable to contact slurm controller|Connection refused|"
    r"Slurm temporarily unable|Zero Bytes were transmitted|Communication connection failure",
    re.IGNORECASE,
)


def run_as_prefix(username: str, policy: AccountPolicy | None = None) -> list[str]:
    """The argv prefix that runs a command as ``username``, a person's account (``policy``).

    As root, ``runuser`` needs no configuration; otherwise sudo must allow the hub's user to run
    the Slurm commands as others (see the README's sudoers rule). A system account (``root``,
    ``slurm``, ``nobody``...) raises :class:`~aifnb_slurm.accounts.AccountError`.
    """
    (policy or AccountPolicy()).check(username)
    if os.geteuid() == 0:
        return ["runuser", "-u", username, "--"]
    return ["sudo", "-n", "-E", "-u", username, "--"]


async def run_slurm(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 30.0,
) -> str:
    """Run ``argv``; return its stdout, or raise :class:`SlurmCommandError`."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            env=dict(env) if env is not None else None,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        raise SlurmCommandError(argv, f"not installed ({exc.filename})", returncode=None, transient=False) from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin is not None else None), timeout)
    except (TimeoutError, asyncio.CancelledError) as exc:
        proc.kill()
        await proc.wait()
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise SlurmCommandError(argv, f"no answer within {timeout:g} s", returncode=None, transient=True) from None
    stderr = err.decode(errors="replace").strip()
    if proc.returncode != 0:
        raise SlurmCommandError(
            argv,
            stderr or f"exit status {proc.returncode}",
            returncode=proc.returncode,
            transient=bool(_TRANSIENT.search(stderr)),
        )
    return out.decode(errors="replace").strip()


@dataclass(frozen=True)
class PartitionAvailability:
    """What the spawn form shows next to a profile: how much of its partition is free now."""

    partition: str
    nodes_idle: int
    nodes_total: int
    cpus_idle: int
    gpus_idle: int
    gpus_total: int


SINFO_FORMAT = "Partition:|,StateCompact:|,CPUsState:|,Gres:|,GresUsed:|"


def _gpu_count(gres: str) -> int:
    """GPUs in a sinfo GRES field such as ``gpu:a100:4(S:0-1),gpu:2``."""
    total = 0
    for item in gres.split(","):
        parts = item.split("(")[0].split(":")
        if parts[0] == "gpu" and matches(DIGITS, parts[-1]):
            total += int(parts[-1])
    return total


def parse_sinfo(output: str) -> dict[str, PartitionAvailability]:
    """Sum ``sinfo -h -N -O SINFO_FORMAT`` lines (one per node and partition) per partition."""
    totals: dict[str, list[int]] = {}
    for line in output.splitlines():
        fields = line.split("|")
        if len(fields) < 5:
            continue
        partition, state, cpus, gres, gres_used = (f.strip() for f in fields[:5])
        partition = partition.rstrip("*")
        usable = state.rstrip("*~#!%$@^-") in {"idle", "mix", "mixed", "alloc", "allocated", "comp", "completing"}
        idle_cpus = int(cpus.split("/")[1]) if cpus.count("/") == 3 and usable else 0
        gpus = _gpu_count(gres)
        row = totals.setdefault(partition, [0, 0, 0, 0, 0])
        row[0] += state.startswith("idle")
        row[1] += 1
        row[2] += idle_cpus
        row[3] += max(gpus - _gpu_count(gres_used), 0) if usable else 0
        row[4] += gpus
    return {p: PartitionAvailability(p, *row) for p, row in totals.items()}


class AvailabilityCache:
    """``sinfo`` at most once per ``ttl`` seconds, however many people open the spawn form."""

    def __init__(self, ttl: float = 30.0, timeout: float = 10.0):
        self.ttl = ttl
        self.timeout = timeout
        self._value: dict[str, PartitionAvailability] = {}
        self._stamp = float("-inf")
        self._lock = asyncio.Lock()

    async def get(self) -> dict[str, PartitionAvailability]:
        """Current availability; ``{}`` (shown as 'unknown') when sinfo fails."""
        async with self._lock:
            if time.monotonic() - self._stamp > self.ttl:
                try:
                    self._value = parse_sinfo(await run_slurm(["sinfo", "-h", "-N", "-O", SINFO_FORMAT], timeout=self.timeout))
                except SlurmCommandError:
                    self._value = {}
                self._stamp = time.monotonic()
            return self._value


class SqueueBatcher:
    """One ``squeue`` call per tick for every job the hub watches, whatever the number of users.

    Every spawner polls its own job (every half second while starting, every ``poll_interval``
    after). Answers come from one ``squeue -j ID,ID,...`` over all watched jobs, run at most once
    per ``tick`` seconds: with 500 sessions the controller sees one RPC per tick, not 500. A job
    asked about for the first time joins the next call; a job Slurm no longer lists stops being
    watched.
    """

    FORMAT = "%i %T %r %S %B"  # job id, state, pending reason, expected start, host (last)

    def __init__(self, tick: float = 1.0, timeout: float = 30.0):
        self.tick = tick
        self.timeout = timeout
        self.calls = 0
        self._watched: set[str] = set()
        self._snapshot: dict[str, str] = {}
        self._asked: frozenset[str] = frozenset()
        self._stamp = float("-inf")
        self._waiting: dict[str, list[asyncio.Future]] = {}
        self._flush: asyncio.Task | None = None

    async def status(self, job_id: str) -> str:
        """``"STATE REASON START HOST"`` of the job, ``""`` when Slurm no longer lists it.

        Raises SlurmCommandError when squeue itself fails (then the state is unknown).
        """
        if job_id in self._asked and time.monotonic() - self._stamp < self.tick:
            return self._snapshot.get(job_id, "")
        future = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(job_id, []).append(future)
        if self._flush is None or self._flush.done():
            self._flush = asyncio.ensure_future(self._run())
        return await future

    async def _run(self) -> None:
        # Loops until nobody waits: requests that arrive while squeue runs get the next call.
        while self._waiting:
            await asyncio.sleep(max(0.02, self._stamp + self.tick - time.monotonic()))
            waiting, self._waiting = self._waiting, {}
            asked = sorted(self._watched | set(waiting), key=lambda i: (len(i), i))
            self.calls += 1
            try:
                out = await run_slurm(["squeue", "-h", "-j", ",".join(asked), "-o", self.FORMAT], timeout=self.timeout)
            except SlurmCommandError as exc:
                if "Invalid job id" not in exc.stderr:
                    self._stamp = time.monotonic()
                    for futures in waiting.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(exc)
                    continue
                out = ""
            found = {}
            for line in out.splitlines():
                job_id, _, rest = line.strip().partition(" ")
                found[job_id] = rest
            self._snapshot, self._asked, self._stamp = found, frozenset(asked), time.monotonic()
            self._watched = set(found)
            for job_id, futures in waiting.items():
                for future in futures:
                    if not future.done():
                        future.set_result(found.get(job_id, ""))


class SlurmClient(SingletonConfigurable):
    """The hub's one line to Slurm's controller: the batched ``squeue`` and the cached ``sinfo``.

    One per hub process (``SlurmClient.instance(config=...)``), configured once with
    ``c.SlurmClient.*``; spawners share it instead of each reconfiguring module-level objects.
    """

    squeue_tick = Float(0.5, help="Seconds between squeue calls; all watched session jobs share each call.").tag(config=True)
    sinfo_ttl = Float(30.0, help="Seconds a partition-availability reading (sinfo) is reused by the spawn form.").tag(config=True)
    timeout = Float(30.0, help="Seconds squeue or sinfo may take before Slurm is treated as unavailable.").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.squeue = SqueueBatcher(tick=self.squeue_tick, timeout=self.timeout)
        self.availability = AvailabilityCache(ttl=self.sinfo_ttl, timeout=self.timeout)
