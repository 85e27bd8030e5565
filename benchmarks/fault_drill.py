"""Fault drill: how fast the hub sees what Slurm did, and how many squeue calls it costs.

On the local single-node Slurm and a real hub and proxy (run as root):

1. N users start sessions; for a quiet minute-long window the ``squeue`` calls are counted (a
   wrapper ahead of Slurm's on the hub's PATH logs each call), to show one batched call per tick
   whatever N is;
2. each session is killed with ``scancel`` in turn, timed until the hub reports it stopped;
3. two sessions run while the hub is stopped and started again, timed until both are reachable.

    /opt/aifnb/venv/bin/python benchmarks/fault_drill.py [--users 4] [--window 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.spawn_ready import ensure_user  # noqa: E402
from tests.conftest import TEST_USERS, session_jobs  # noqa: E402
from tests.support.hub import Hub  # noqa: E402

PROFILE = {"profile": "cpu-course"}


def squeue_counter(workdir: Path) -> Path:
    """A ``squeue`` ahead of Slurm's on PATH that logs the time of each call; returns the log."""
    bindir, log = workdir / "bin", workdir / "squeue-calls.log"
    bindir.mkdir()
    real = shutil.which("squeue")
    wrapper = bindir / "squeue"
    wrapper.write_text(f'#!/bin/sh\ndate +%s.%N >> {log}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    os.environ["PATH"] = f"{bindir}:{os.environ['PATH']}"
    return log


def calls_between(log: Path, began: float, ended: float) -> int:
    times = [float(line) for line in log.read_text().split()] if log.exists() else []
    return sum(began <= t < ended for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=4, help="sessions running at once")
    parser.add_argument("--window", type=float, default=20.0, help="seconds of squeue counting while they run")
    args = parser.parse_args()
    subprocess.run([str(ROOT / "hub/scripts/local-slurm"), "start"], check=True, capture_output=True)
    names = [f"aifb-{i:02d}" for i in range(args.users)]
    for name in names:
        ensure_user(name, "learners")
    workdir = Path(tempfile.mkdtemp(prefix="aifnb-drill-", dir="/var/tmp"))
    workdir.chmod(0o755)
    log = squeue_counter(workdir)
    users = {**TEST_USERS, "learners": names[0]}
    hub = Hub(workdir, users, extra={"groups": {"learners": {"users": names}}}).start()
    sessions = [hub.login(name) for name in names]
    try:
        for session in sessions:
            session.start(PROFILE).raise_for_status()
        for session in sessions:
            session.wait_ready(timeout=180)
        began = time.time()
        time.sleep(args.window)
        calls = calls_between(log, began, time.time())
        tick = 0.5  # SlurmClient.squeue_tick's default
        print(
            f"{args.users} running sessions, {args.window:.0f} s: {calls} squeue calls "
            f"({calls / args.window:.2f}/s; one per tick of {tick} s is {1 / tick:.2f}/s, per user {calls / args.window / args.users:.2f}/s)"
        )

        seconds = []
        for session in sessions[2:]:
            [job] = session_jobs(session.username)
            subprocess.run(["scancel", job], check=True)
            killed = time.monotonic()
            session.wait_stopped(timeout=60)
            seconds.append(time.monotonic() - killed)
        if seconds:
            print(
                f"scancel to stopped, {len(seconds)} sessions: median {statistics.median(seconds):.1f} s, "
                f"max {max(seconds):.1f} s (target <= 10 s)"
            )

        hub.stop(keep_sessions=True)
        began_restart = time.monotonic()
        hub.start()
        for session in sessions[:2]:
            session.wait_ready(timeout=60)
            status = session.client.get(f"/user/{session.username}/api/status", headers=session.api.headers)
            status.raise_for_status()
        print(f"hub restarted with 2 running sessions: both reachable after {time.monotonic() - began_restart:.1f} s")
        for session in sessions[:2]:
            session.stop()
        left = {name: session_jobs(name) for name in names if session_jobs(name)}
        print(f"session jobs left after the stops: {left or 'none'}")
    finally:
        for session in sessions:
            session.__exit__()
        hub.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
