"""MLflow service under load: N concurrent Slurm batch jobs, each logging M metrics through the hub.

A real hub (proxy, managed MLflow service) on the local single-node Slurm; a learner's batch jobs
start from a clean environment (--export=NONE) and log with the credential the platform gives
batch jobs (a token the MLflow service issues and alone accepts, in the run folder, 0600). Each job makes
one run and calls ``mlflow.log_metric`` M times (one request each, the worst case for the
service), timing every call. Printed: wall time from submission to the last job's end, requests
per second, and the p50/p95/max of the per-request latency the jobs saw (through the proxy).
Any failed job or request fails the run. Run as root:

    /opt/aifnb/venv/bin/python benchmarks/mlflow_load.py [--jobs 10] [--metrics 1000] [--postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aifnb_widgets import mlops  # noqa: E402
from tests.hub.mlflow.conftest import ALICE, MLFLOW, start_mlflow_hub, user_token, wait_mlflow  # noqa: E402

JOB = """
import json, os, sys, time
import mlflow
from aifnb_widgets import mlops
folder = sys.argv[1]
assert mlops.load_job_credential(folder)
mlflow.set_experiment("{experiment}")
latencies = []
with mlflow.start_run(run_name=os.path.basename(folder)):
    for step in range({metrics}):
        began = time.perf_counter()
        mlflow.log_metric("value", step * 0.5, step=step)
        latencies.append(time.perf_counter() - began)
with open(os.path.join(folder, "latencies.json"), "w") as f:
    json.dump(latencies, f)
"""


def as_user(user: pwd.struct_passwd, argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", user.pw_name, "--", *argv], capture_output=True, text=True, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10, help="concurrent batch jobs")
    parser.add_argument("--metrics", type=int, default=1000, help="log_metric calls per job")
    parser.add_argument("--workers", type=int, default=2, help="MLflow server worker processes")
    parser.add_argument("--postgres", action="store_true", help="stores in a PostgreSQL started for the run (default: SQLite)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run as root (it starts a hub, Slurm jobs as a test user and maybe PostgreSQL)", file=sys.stderr)
        return 2
    subprocess.run([str(ROOT / "hub/scripts/local-slurm"), "start"], check=True, capture_output=True)
    learner = pwd.getpwnam(ALICE)
    workdir = Path(tempfile.mkdtemp(prefix="aifnb-mlflow-load-", dir="/var/tmp"))
    workdir.chmod(0o755)
    runs = Path(tempfile.mkdtemp(prefix="mlflow-load-", dir=learner.pw_dir))
    os.chown(runs, learner.pw_uid, learner.pw_gid)
    postgres, hub = None, None
    try:
        mlflow_settings = {"workers": args.workers}
        if args.postgres:
            from tests.support.postgres import Postgres

            postgres = Postgres().start()
            mlflow_settings |= {
                "backend_store_uri": postgres.database("mlflow_load"),
                "auth_database_uri": postgres.database("mlflow_load_auth"),
            }
        hub = start_mlflow_hub(workdir, mlflow_settings)
        wait_mlflow(hub)
        issued = httpx.post(
            f"{hub.url}{MLFLOW}/aifnb/api/job-token", json={"expires_in": 3600},
            headers={"Authorization": f"Bearer {user_token(hub, ALICE)}"}, timeout=30,
        )  # fmt: skip
        issued.raise_for_status()
        token = issued.json()["token"]  # what a session hands its batch jobs (mlops.job_credential)
        credential = {
            "MLFLOW_TRACKING_URI": f"{hub.url}{MLFLOW}",
            "MLFLOW_TRACKING_TOKEN": token,
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        }
        # The experiment exists before the jobs start, as when a user sets up a sweep: N jobs that all
        # create it on their first call race (one wins, the others get RESOURCE_ALREADY_EXISTS).
        created = httpx.post(
            f"{hub.url}{MLFLOW}/api/2.0/mlflow/experiments/create", json={"name": f"{ALICE}/load"},
            headers={"Authorization": f"Bearer {token}"}, timeout=30,
        )  # fmt: skip
        created.raise_for_status()
        script = runs / "job.py"
        script.write_text(JOB.format(experiment=f"{ALICE}/load", metrics=args.metrics))
        os.chown(script, learner.pw_uid, learner.pw_gid)
        folders = []
        for index in range(args.jobs):
            folder = runs / f"job-{index}"
            folder.mkdir()
            os.chown(folder, learner.pw_uid, learner.pw_gid)
            fd = os.open(folder, os.O_RDONLY)
            try:
                mlops.write_credential_at(fd, credential, learner.pw_uid)
            finally:
                os.close(fd)
            folders.append(folder)
        began = time.perf_counter()
        job_ids = []
        for folder in folders:
            argv = ["sbatch", "--parsable", "--export=NONE", "--partition=cpu", "--cpus-per-task=1", "--mem=1G", "--time=30",
                    "--job-name=aifnb-mlflow-load", f"--output={folder}/job.log", f"--wrap={sys.executable} {script} {folder}"]  # fmt: skip
            done = as_user(learner, argv)
            if done.returncode != 0:
                raise RuntimeError(f"sbatch failed: {done.stderr}")
            job_ids.append(done.stdout.strip())
        while subprocess.run(
            ["squeue", "-h", "-j", ",".join(job_ids)], capture_output=True, text=True, check=False
        ).stdout.strip():
            time.sleep(0.5)
        elapsed = time.perf_counter() - began
        latencies, failed = [], []
        for folder in folders:
            result = folder / "latencies.json"
            if not result.exists():
                failed.append(f"{folder.name}: {(folder / 'job.log').read_text(errors='replace')[-1500:]}")
                continue
            latencies.extend(json.loads(result.read_text()))
        store = "PostgreSQL" if args.postgres else "SQLite"
        print(
            f"MLflow service, {store} store, {args.workers} workers: {args.jobs} concurrent batch jobs x {args.metrics} log_metric calls"
        )
        if failed:
            print(f"FAILED: {len(failed)} job(s)\n" + "\n".join(failed))
            return 1
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(f"  elapsed (submit to last job done): {elapsed:.1f} s; {len(latencies) / elapsed:.0f} requests/s overall")
        print(
            f"  request latency: p50 {statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
        )
        print(f"  requests: {len(latencies)}, errors: 0")
        return 0
    finally:
        if hub is not None:
            hub.stop()
            print(f"  hub stopped in {hub.stop_seconds:.1f} s")
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(runs, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
