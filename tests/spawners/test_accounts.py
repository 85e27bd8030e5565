"""Only people's Unix accounts run jobs: the account policy, run_as_prefix and the spawner's 403."""

from __future__ import annotations

import pwd

import pytest
from jupyterhub.spawner import SpawnException

from aifnb_slurm.accounts import AccountError, AccountPolicy, login_defs_uid_range
from aifnb_slurm.slurm import run_as_prefix
from tests.spawners.conftest import make_spawner

REAL_ACCOUNTS = True  # the spawners/conftest stand-in policy stays off here

SYSTEM = ["root", "nobody", "daemon", "slurm", "munge"]


@pytest.mark.parametrize("name", ["root; id", "Alice", "-u", "a b", "", "alice\n", "ali\u0441e", "x" * 33], ids=repr)
def test_odd_names_never_reach_runuser(name):
    """Names outside the allow-list are refused before any account lookup."""
    with pytest.raises(AccountError, match="cannot run jobs"):
        run_as_prefix(name)


@pytest.mark.parametrize("name", SYSTEM)
def test_system_accounts_are_refused(name):
    """root, nobody and the daemons' accounts (all present on the CI machine) never run jobs."""
    pwd.getpwnam(name)  # the account exists: it is the policy, not a lookup miss, that refuses
    with pytest.raises(AccountError, match="system account"):
        run_as_prefix(name)


def test_a_person_runs_through_runuser(unix_users):
    """A test user created by useradd (uid >= UID_MIN) gets the runuser prefix."""
    name = unix_users["learners"]
    assert run_as_prefix(name) == ["runuser", "-u", name, "--"]


def test_uid_outside_the_range_is_refused(unix_users):
    """A site that raises min_uid above a user's uid refuses that user, naming the range."""
    name = unix_users["learners"]
    uid = pwd.getpwnam(name).pw_uid
    with pytest.raises(AccountError, match=f"uid {uid}"):
        AccountPolicy(min_uid=uid + 1).check(name)


def test_unknown_account_is_refused():
    """A hub user without a Unix account is told to ask the admins."""
    with pytest.raises(AccountError, match="no Unix account"):
        run_as_prefix("aift-nobody-has-this")


def test_login_defs_range_is_read(tmp_path):
    """UID_MIN/UID_MAX come from login.defs; a missing file gives Debian's 1000-60000."""
    defs = tmp_path / "login.defs"
    defs.write_text("# comment\nUID_MIN\t\t 2000\nUID_MAX 50000\nSYS_UID_MIN 100\n")
    assert login_defs_uid_range(defs) == (2000, 50000)
    assert login_defs_uid_range(tmp_path / "missing") == (1000, 60000)


@pytest.mark.parametrize("name", ["root", "nobody"])
def test_spawner_refuses_system_accounts_with_403(name):
    """The spawner's options hook answers 403 before anything is submitted."""
    spawner = make_spawner(name=name, groups=("admins",))
    with pytest.raises(SpawnException) as caught:
        spawner.job_request({})
    assert caught.value.status_code == 403 and "system account" in caught.value.log_message


def test_spawner_accepts_a_person(unix_users):
    """A real person in the learners group gets the CPU profile."""
    spawner = make_spawner(name=unix_users["learners"], groups=("learners",))
    assert spawner.job_request({}).profile == "cpu-course"
