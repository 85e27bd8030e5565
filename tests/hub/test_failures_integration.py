"""A session job that dies early fails the spawn at once, with its log, and leaves nothing behind."""

from __future__ import annotations

import time

import pytest

from tests.conftest import session_jobs
from tests.support.hub import Hub

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def failing_hub(slurm, unix_users, hub_workdir):
    # The admin-written prologue fails, as a broken module load would on a real cluster.
    extra = {"hub": {"prologue": "echo 'aifnb-test: module load failed' >&2; exit 3"}}
    running = Hub(hub_workdir, unix_users, extra).start()
    yield running
    running.stop()


def test_job_exiting_before_port_fails_spawn_quickly_with_log_tail(failing_hub, unix_users):
    """The spawn fails within seconds (not start_timeout) and the message carries the job's log tail."""
    learner = unix_users["learners"]
    with failing_hub.login(learner) as session:
        began = time.monotonic()
        response = session.start({"profile": "cpu-course"})
        deadline = began + 30
        server = session.server()
        while server and server.get("pending") and time.monotonic() < deadline:
            time.sleep(0.2)
            server = session.server()
        elapsed = time.monotonic() - began
        assert server is None, server
        assert elapsed < 20, f"spawn took {elapsed:.1f}s to fail"
        log = failing_hub.log()
        assert "ended before" in log and "aifnb-test: module load failed" in log, log[-2000:]
        assert response.status_code in (202, 500, 400)
        assert session_jobs(learner) == []


def test_misspelt_setting_stops_the_hub_with_the_key_named(unix_users, hub_workdir):
    """A typo in the site file stops the real hub at start-up, naming the key's path."""
    hub = Hub(hub_workdir, unix_users, {"culling": {"timout": 10}})
    with pytest.raises(RuntimeError, match=r"culling\.timout: unknown key"):
        hub.start(timeout=30)
    hub.stop()
