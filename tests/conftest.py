"""Fixtures shared by every tier: the real single-node Slurm and the Unix users of the tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Unix users the integration tests log in as, by the platform group they belong to.
TEST_USERS = {
    "learners": "aift-learner",
    "companies": "aift-company",
    "trainers": "aift-trainer",
    "admins": "aift-admin",
}


@pytest.fixture(scope="session", autouse=True)
def no_hub_left_running():
    """A hub a test started and never stopped (say, an assertion before its stop) is stopped at
    the end of the run, so no hub, proxy or service outlives the tests."""
    yield
    from tests.support.hub import Hub

    forgotten = list(Hub.started)
    for hub in forgotten:
        hub.stop()
    assert not forgotten, f"{len(forgotten)} hub(s) left running by tests (now stopped): {[h.url for h in forgotten]}"


def _root_required(what: str) -> None:
    if os.geteuid() != 0:
        pytest.fail(f"{what} needs root (it starts Slurm daemons and creates Unix users); run the README's test command")


@pytest.fixture(scope="session")
def slurm() -> dict[str, str]:
    """A running single-node Slurm (started by hub/scripts/local-slurm if it is not up)."""
    _root_required("the local Slurm")
    subprocess.run([str(ROOT / "hub/scripts/local-slurm"), "start"], check=True, capture_output=True, text=True)
    return {"default_partition": "cpu", "gpu_partition": "gpu"}


@pytest.fixture(scope="session")
def unix_users() -> dict[str, str]:
    """The tests' Unix users (created once), by group, each in its group's Unix group
    (``aifnb-<group>``, which the local Slurm's partitions admit)."""
    _root_required("creating Unix users")
    for group, name in TEST_USERS.items():
        if subprocess.run(["id", name], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True)
        if subprocess.run(["getent", "group", f"aifnb-{group}"], capture_output=True).returncode != 0:
            subprocess.run(["groupadd", f"aifnb-{group}"], check=True)
        subprocess.run(["usermod", "-aG", f"aifnb-{group}", name], check=True)
    return dict(TEST_USERS)


def squeue_jobs(user: str | None = None, name: str | None = None) -> list[str]:
    """Ids of jobs still holding or waiting for resources (a COMPLETING job is already cancelled)."""
    argv = ["squeue", "-h", "-o", "%i", "-t", "PENDING,RUNNING,CONFIGURING,SUSPENDED"]
    if user:
        argv += ["-u", user]
    if name:
        argv += ["-n", name]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return out.split()


def session_jobs(user: str) -> list[str]:
    """The user's interactive-session jobs (batch jobs the user may run meanwhile are not sessions)."""
    return squeue_jobs(user, name=f"aifnb-session-{user}")


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (its own cluster, loopback port, password auth), stopped at the end."""
    from tests.support.postgres import Postgres

    _root_required("the PostgreSQL server (initdb runs as the postgres account)")
    server = Postgres().start()
    yield server
    server.stop()
