"""Faults seen in seconds: a session killed by Slurm, settings the spawner would ignore."""

from __future__ import annotations

import subprocess
import time

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
