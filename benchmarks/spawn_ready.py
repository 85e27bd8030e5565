"""Spawn-to-ready: FactorySlurmSpawner next to stock batchspawner.SlurmSpawner and a local process.

Each variant runs a real hub and proxy on the local single-node Slurm; a round is one REST spawn
of the cpu-course profile, timed from the request until the hub reports the server ready, then a
stop. Then N users spawn at once through our spawner. Run as root:

    /opt/aifnb/venv/bin/python benchmarks/spawn_ready.py [--rounds 3] [--concurrent 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import TEST_USERS  # noqa: E402
from tests.support.hub import CONFIG, Hub  # noqa: E402

VARIANTS = {
    "local jupyterhub-singleuser (no Slurm)": ROOT / "benchmarks" / "local_spawner_config.py",
    "stock batchspawner.SlurmSpawner": ROOT / "benchmarks" / "stock_batchspawner_config.py",
    "aifnb FactorySlurmSpawner": CONFIG,
}


def ensure_user(name: str) -> None:
    if subprocess.run(["id", name], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True)


def spawn_once(hub: Hub, user: str) -> float:
    with hub.login(user) as session:
        began = time.perf_counter()
        response = session.start({"profile": "cpu-course"} if hub.config == CONFIG else {})
        response.raise_for_status()
        session.wait_ready(timeout=120)
        elapsed = time.perf_counter() - began
        session.stop()
    return elapsed


def stop(hub: Hub) -> None:
    """Stop the hub; the run fails (Hub.stop raises) if any process it started is still there."""
    hub.stop()
    if hub.stop_seconds is not None:
        print(f"hub stopped in {hub.stop_seconds:.2f} s after SIGTERM, no process left", flush=True)


def run_variant(config: Path, users: dict[str, str], rounds: int) -> list[float]:
    workdir = Path(tempfile.mkdtemp(prefix="aifnb-bench-", dir="/var/tmp"))
    workdir.chmod(0o755)
    hub = Hub(workdir, users, config=config).start()
    try:
        spawn_once(hub, users["learners"])  # warm-up: first import of the server's packages
        return [spawn_once(hub, users["learners"]) for _ in range(rounds)]
    finally:
        stop(hub)
        shutil.rmtree(workdir, ignore_errors=True)


def run_concurrent(count: int) -> list[float]:
    names = [f"aifb-{i:02d}" for i in range(count)]
    for name in names:
        ensure_user(name)
    users = {**TEST_USERS, "learners": names[0]}
    workdir = Path(tempfile.mkdtemp(prefix="aifnb-bench-", dir="/var/tmp"))
    workdir.chmod(0o755)
    extra = {"groups": {"learners": {"users": names}}}
    hub = Hub(workdir, users, extra=extra).start()
    try:
        sessions = [hub.login(name) for name in names]
        began = time.perf_counter()

        def ready(session) -> float:
            # The REST call itself waits up to the hub's slow_spawn_timeout, so each user has a thread.
            session.start({"profile": "cpu-course"}).raise_for_status()
            session.wait_ready(timeout=300)
            return time.perf_counter() - began

        with ThreadPoolExecutor(count) as pool:
            times = list(pool.map(ready, sessions))
        for session in sessions:
            session.stop()
            session.__exit__()
        return times
    finally:
        stop(hub)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed spawns per variant (after one warm-up)")
    parser.add_argument("--concurrent", type=int, default=10, help="users spawning at the same time")
    args = parser.parse_args()
    subprocess.run([str(ROOT / "hub/scripts/local-slurm"), "start"], check=True, capture_output=True)
    for name in TEST_USERS.values():
        ensure_user(name)

    results = {label: run_variant(config, TEST_USERS, args.rounds) for label, config in VARIANTS.items()}
    baseline = statistics.median(results["local jupyterhub-singleuser (no Slurm)"])
    stock = statistics.median(results["stock batchspawner.SlurmSpawner"])
    print(f"\nspawn-to-ready, median of {args.rounds} (after a warm-up), cpu-course profile")
    print(f"{'variant':42} {'median s':>9} {'min s':>7} {'max s':>7} {'x local':>8} {'x stock':>8}")
    for label, times in results.items():
        median = statistics.median(times)
        print(f"{label:42} {median:9.2f} {min(times):7.2f} {max(times):7.2f} {median / baseline:8.2f} {median / stock:8.2f}")

    times = run_concurrent(args.concurrent)
    print(f"\n{args.concurrent} simultaneous spawns (aifnb): all ready after {max(times):.2f} s; "
          f"median {statistics.median(times):.2f} s; first {min(times):.2f} s; "
          f"max / single median {max(times) / statistics.median(results['aifnb FactorySlurmSpawner']):.2f}")


if __name__ == "__main__":
    main()
