"""The hub on a real PostgreSQL database (hub.db_url), restarted with a session running."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import session_jobs
from tests.support.hub import Hub

pytestmark = pytest.mark.integration


def test_hub_on_postgresql_keeps_a_running_session_across_a_restart(slurm, unix_users, postgres, monkeypatch):
    """Users, servers and tokens live in PostgreSQL: after a restart the learner's running session is found again."""
    url = make_url(postgres.database("jupyterhub"))
    monkeypatch.setenv("PGPASSWORD", url.password)  # libpq's variable: the password stays out of the settings file
    db_url = f"postgresql://{url.username}@{url.host}:{url.port}/{url.database}"
    workdir = Path(tempfile.mkdtemp(prefix="aifnb-hub-", dir="/var/tmp"))
    workdir.chmod(0o755)
    hub = Hub(workdir, unix_users, {"hub": {"db_url": db_url}})
    session = None
    learner = unix_users["learners"]
    try:
        hub.start()
        session = hub.login(learner)
        assert "jupyterhub.sqlite" not in {p.name for p in (workdir / "data").iterdir()}
        assert postgres.execute("SELECT count(*) FROM users WHERE name = %s", (learner,), database="jupyterhub") == [(1,)]
        session.start({"profile": "cpu-course"})
        session.wait_ready()
        hub.stop(keep_sessions=True)
        hub.start()
        session.wait_ready(timeout=30)
        status = session.client.get(f"/user/{learner}/api/status", headers=session.api.headers)
        assert status.status_code == 200, status.text[:300]
        session.stop()
        assert session_jobs(learner) == []
    finally:
        if session:
            session.__exit__()
        hub.stop()
        shutil.rmtree(workdir, ignore_errors=True)
