"""A real hub per test module, on the real Slurm and proxy; no job is left behind."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import session_jobs
from tests.support.hub import Hub


@pytest.fixture(scope="module")
def hub_workdir():
    """A folder Slurm jobs (other users) can read: pytest's own tmp_path is private to root."""
    path = Path(tempfile.mkdtemp(prefix="aifnb-hub-", dir="/var/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def hub(slurm, unix_users, hub_workdir):
    running = Hub(hub_workdir, unix_users).start()
    yield running
    # Every test stops what it started: checked before the test hub's own clean-up cancels the rest.
    leftovers = [job for user in unix_users.values() for job in session_jobs(user)]
    running.stop()
    assert leftovers == [], f"jobs left behind: {leftovers}"
