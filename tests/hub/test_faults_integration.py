"""Faults seen in seconds: a session killed by Slurm, settings the spawner would ignore."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import session_jobs
from tests.support.hub import CONFIG, Hub

pytestmark = pytest.mark.integration


def test_session_killed_by_scancel_is_stopped_within_ten_seconds(hub, unix_users):
    """scancel on a running session: the hub marks it stopped in <= 10 s (JupyterHub's default took ~25 s)."""
    learner = unix_users["learners"]
    with hub.login(learner) as session:
        session.start({"profile": "cpu-course"})
        session.wait_ready()
        [job] = session_jobs(learner)
        subprocess.run(["scancel", job], check=True)
        killed = time.monotonic()
        session.wait_stopped(timeout=30)
        seconds = time.monotonic() - killed
        print(f"\nscancel-to-stopped: {seconds:.1f} s")
        assert seconds <= 10, f"the hub saw the killed job only after {seconds:.1f} s"
        assert session_jobs(learner) == []


def test_replaced_batchspawner_setting_stops_the_hub(unix_users, tmp_path):
    """c.FactorySlurmSpawner.req_partition in the config stops the real hub, naming the profile field."""
    config = tmp_path / "jupyterhub_config.py"
    # An admin's line above the platform's config, in the same file (same config object).
    config.write_text(f"get_config().FactorySlurmSpawner.req_partition = 'x'\n{CONFIG.read_text()}")
    hub = Hub(tmp_path, unix_users, config=config)
    try:
        with pytest.raises(RuntimeError, match=r"req_partition is not used by FactorySlurmSpawner; set the profile's partition"):
            hub.start(timeout=30)
    finally:
        hub.stop()  # a hub that started by mistake is stopped too


def test_hub_restart_finds_both_running_sessions(slurm, unix_users):
    """A hub restarted while two sessions run finds both again: ready, and reachable through the new proxy."""
    workdir = Path(tempfile.mkdtemp(prefix="aifnb-hub-", dir="/var/tmp"))
    workdir.chmod(0o755)
    hub = Hub(workdir, unix_users).start()
    names = [unix_users["learners"], unix_users["companies"]]
    sessions = [hub.login(name) for name in names]
    try:
        for session in sessions:
            session.start({"profile": "cpu-course"})
        for session in sessions:
            session.wait_ready()
        jobs = {name: session_jobs(name) for name in names}
        hub.stop(keep_sessions=True)
        assert {name: session_jobs(name) for name in names} == jobs, "a session job ended with the hub"
        began = time.monotonic()
        hub.start()
        for session in sessions:
            server = session.wait_ready(timeout=30)
            assert server["ready"], server
            status = session.client.get(f"/user/{session.username}/api/status", headers=session.api.headers)
            assert status.status_code == 200, status.text[:300]
        print(f"\nhub restart to both sessions reachable: {time.monotonic() - began:.1f} s")
        for session in sessions:
            session.stop()
        assert all(session_jobs(name) == [] for name in names)
    finally:
        for session in sessions:
            session.__exit__()
        hub.stop()
        shutil.rmtree(workdir, ignore_errors=True)
