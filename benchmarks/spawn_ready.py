"""Spawn-to-ready: FactorySlurmSpawner next to stock batchspawner.SlurmSpawner and a local process.

Each variant runs a real hub and proxy on the local single-node Slurm, all three at once; a round
is one REST spawn of the cpu-course profile per variant, in a rotating order, timed from the
request until the hub reports the server ready, then a stop. Interleaving the variants round by
round puts machine noise on all of them alike, so the ratios hold when the machine is busy. Then
N users spawn at once through our spawner while a probe times the hub's API.

The machine's busy CPU time is read from /proc/stat around every spawn: what one spawn costs in
CPU-seconds (hub, Slurm and the server's start together) gives the floor under N spawns on this
machine's cores, so a burst can be told apart from a queue: a burst as long as its CPU floor, with
the cores busy throughout, is waiting for CPU, not for anything in the platform. Run as root:

    /opt/aifnb/venv/bin/python benchmarks/spawn_ready.py [--rounds 5] [--concurrent 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import TEST_USERS  # noqa: E402
from tests.support.hub import CONFIG, Hub  # noqa: E402

VARIANTS = {
    "local jupyterhub-singleuser (no Slurm)": ROOT / "benchmarks" / "local_spawner_config.py",
    "stock batchspawner.SlurmSpawner": ROOT / "benchmarks" / "stock_batchspawner_config.py",
    "aifnb FactorySlurmSpawner": CONFIG,
}


def ensure_user(name: str, group: str) -> None:
    """A Unix user in ``group``'s Unix group (aifnb-<group>), which the local Slurm's partitions admit."""
    if subprocess.run(["id", name], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True)
    subprocess.run(["usermod", "-aG", f"aifnb-{group}", name], check=True)


def cpu_busy_seconds() -> float:
    """CPU-seconds the whole machine has spent busy (all cores; not idle or waiting on I/O)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


#: CPU-seconds of our spawns (hub, Slurm and the server's start), for the burst's floor.
SPAWN_CPU: list[float] = []


def spawn_once(hub: Hub, user: str) -> float:
    with hub.login(user) as session:
        began, busy = time.perf_counter(), cpu_busy_seconds()
        response = session.start({"profile": "cpu-course"} if hub.config == CONFIG else {})
        response.raise_for_status()
        session.wait_ready(timeout=120)
        elapsed = time.perf_counter() - began
        if hub.config == CONFIG:
            SPAWN_CPU.append(cpu_busy_seconds() - busy)
        session.stop()
    return elapsed


def stop(hub: Hub) -> None:
    """Stop the hub; the run fails (Hub.stop raises) if any process it started is still there."""
    hub.stop()
    if hub.stop_seconds is not None:
        print(f"hub stopped in {hub.stop_seconds:.2f} s after SIGTERM, no process left", flush=True)


def start_hub(config: Path, users: dict[str, str], stack: ExitStack, extra: dict | None = None) -> Hub:
    workdir = Path(tempfile.mkdtemp(prefix="aifnb-bench-", dir="/var/tmp"))
    workdir.chmod(0o755)
    stack.callback(shutil.rmtree, workdir, ignore_errors=True)
    hub = Hub(workdir, users, extra=extra, config=config).start()
    stack.callback(stop, hub)
    return hub


def run_interleaved(users: dict[str, str], rounds: int) -> dict[str, list[float]]:
    """Spawn times per variant: one warm-up each, then ``rounds`` rounds in rotating order."""
    results: dict[str, list[float]] = {label: [] for label in VARIANTS}
    with ExitStack() as stack:
        hubs = {label: start_hub(config, users, stack) for label, config in VARIANTS.items()}
        for hub in hubs.values():
            spawn_once(hub, users["learners"])  # warm-up: first import of the server's packages
        labels = list(VARIANTS)
        for round_ in range(rounds):
            for label in labels[round_ % len(labels) :] + labels[: round_ % len(labels)]:
                results[label].append(spawn_once(hubs[label], users["learners"]))
            done = ", ".join(f"{k.split()[0]} {v[-1]:.2f} s" for k, v in results.items())
            print(f"round {round_ + 1}/{rounds}: {done}", flush=True)
    return results


class ApiProbe:
    """Times a hub API request every 0.1 s in a thread, to see the hub's latency under a burst."""

    def __init__(self, hub: Hub):
        self.url = f"{hub.url}/hub/api/"
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                began = time.perf_counter()
                client.get(self.url).raise_for_status()
                self.latencies.append(time.perf_counter() - began)
                self._stop.wait(0.1)

    def __enter__(self) -> ApiProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def p95(self) -> float:
        return statistics.quantiles(self.latencies, n=20)[-1] if len(self.latencies) >= 2 else float("nan")


def run_concurrent(count: int) -> tuple[list[float], float, float]:
    """Ready times of ``count`` simultaneous spawns, the hub API's p95 latency meanwhile, and the
    machine's busy CPU-seconds over the burst."""
    names = [f"aifb-{i:02d}" for i in range(count)]
    for name in names:
        ensure_user(name, "learners")
    users = {**TEST_USERS, "learners": names[0]}
    with ExitStack() as stack:
        hub = start_hub(CONFIG, users, stack, extra={"groups": {"learners": {"users": names}}})
        sessions = [hub.login(name) for name in names]
        began, busy = time.perf_counter(), cpu_busy_seconds()

        def ready(session) -> float:
            # The REST call itself waits up to the hub's slow_spawn_timeout, so each user has a thread.
            session.start({"profile": "cpu-course"}).raise_for_status()
            session.wait_ready(timeout=300)
            return time.perf_counter() - began

        with ApiProbe(hub) as probe, ThreadPoolExecutor(count) as pool:
            times = list(pool.map(ready, sessions))
        busy = cpu_busy_seconds() - busy
        for session in sessions:
            session.stop()
            session.__exit__()
        return times, probe.p95(), busy


def spread(times: list[float]) -> str:
    quartiles = statistics.quantiles(times, n=4) if len(times) >= 2 else [times[0]] * 3
    return f"{statistics.median(times):9.2f} {quartiles[2] - quartiles[0]:7.2f} {min(times):7.2f} {max(times):7.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds after one warm-up per variant")
    parser.add_argument("--concurrent", type=int, default=10, help="users spawning at the same time")
    args = parser.parse_args()
    subprocess.run([str(ROOT / "hub/scripts/local-slurm"), "start"], check=True, capture_output=True)
    for group, name in TEST_USERS.items():
        ensure_user(name, group)

    results = run_interleaved(TEST_USERS, args.rounds)
    baseline = statistics.median(results["local jupyterhub-singleuser (no Slurm)"])
    stock = statistics.median(results["stock batchspawner.SlurmSpawner"])
    ours = statistics.median(results["aifnb FactorySlurmSpawner"])
    print(f"\nspawn-to-ready, {args.rounds} interleaved rounds (after a warm-up), cpu-course profile")
    print(f"{'variant':42} {'median s':>9} {'IQR s':>7} {'min s':>7} {'max s':>7} {'x local':>8} {'x stock':>8}")
    for label, times in results.items():
        median = statistics.median(times)
        print(f"{label:42} {spread(times)} {median / baseline:8.2f} {median / stock:8.2f}")
    print(f"ours - local: {ours - baseline:+.2f} s (target <= +0.50 s); ours / stock: {ours / stock:.2f} (target <= 1.00)")

    times, p95, busy = run_concurrent(args.concurrent)
    cores = os.cpu_count() or 1
    per_spawn = statistics.median(SPAWN_CPU)
    floor = max(ours, args.concurrent * per_spawn / cores)
    print(
        f"\n{args.concurrent} simultaneous spawns (aifnb): all ready after {max(times):.2f} s; "
        f"median {statistics.median(times):.2f} s; first {min(times):.2f} s; "
        f"all / single median {max(times) / ours:.2f} (target <= 3); hub API p95 during the burst {p95 * 1000:.0f} ms"
    )
    print(
        f"CPU: one spawn costs {per_spawn:.2f} CPU-s (median); {args.concurrent} need >= {floor:.2f} s on {cores} cores "
        f"(floor / single {floor / ours:.2f}); the burst took {max(times) / floor:.2f}x its floor with the cores "
        f"{busy / (max(times) * cores):.0%} busy"
    )


if __name__ == "__main__":
    main()
