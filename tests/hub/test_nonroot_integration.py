"""A hub that is not root, set up as the README's "Running the hub as a non-root user" says: its own
system account, the README's sudoers rule, a state folder it owns, a working directory it cannot
write; a learner's session goes through the real Slurm and the real proxy."""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT, session_jobs
from tests.support.hub import Hub

pytestmark = pytest.mark.integration

#: The hub's account in the test (the README's is `jupyterhub`).
HUB_ACCOUNT = "aifnb-hubtest"
SUDOERS = Path("/etc/sudoers.d") / HUB_ACCOUNT


def readme_sudoers() -> list[str]:
    """The README's ```sudoers blocks, in order: the rule of step 3 first, then the narrowed one."""
    blocks = re.findall(r"```sudoers\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [textwrap.dedent(block) for block in blocks]


def for_account(rule: str, account: str) -> str:
    """A README rule with the hub account `jupyterhub` replaced by ``account``."""
    assert re.search(r"^jupyterhub ", rule, re.M), f"no rule for the account jupyterhub in:\n{rule}"
    return re.sub(r"^jupyterhub ", f"{account} ", rule, flags=re.M)


def install_rule(rule: str) -> None:
    """Write the rule for the hub's account to /etc/sudoers.d once visudo accepts it."""
    staged = SUDOERS.with_name(f".{HUB_ACCOUNT}")  # sudo ignores names with a dot until the rename
    staged.write_text(for_account(rule, HUB_ACCOUNT))
    staged.chmod(0o440)
    subprocess.run(["visudo", "-cf", str(staged)], check=True, capture_output=True)
    staged.rename(SUDOERS)


def run_session(session) -> None:
    """Start a cpu-course session, open JupyterLab through the proxy, stop it: no job is left."""
    learner = session.username
    response = session.start({"profile": "cpu-course"})
    assert response.status_code in (201, 202), response.text
    session.wait_ready()
    assert len(session_jobs(learner)) == 1, "the session is not a Slurm job of the learner"
    lab = session.client.get(f"/user/{learner}/lab", headers=session.api.headers)
    assert lab.status_code == 200 and "JupyterLab" in lab.text, lab.text[:300]
    session.stop()
    assert session_jobs(learner) == []


def uid_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^Uid:\s+([0-9]+)", status, re.M).group(1))


@pytest.fixture(scope="module")
def hub_account(unix_users):
    """The hub's system account (created once, like the test users) and the README's sudoers rule
    for it in /etc/sudoers.d, removed afterwards."""
    if shutil.which("sudo") is None or not SUDOERS.parent.is_dir():
        pytest.fail("sudo is not installed: run bash .ci/setup")
    if subprocess.run(["id", HUB_ACCOUNT], capture_output=True, check=False).returncode != 0:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--create-home",
                "--home-dir",
                f"/var/lib/{HUB_ACCOUNT}",
                "--shell",
                "/usr/sbin/nologin",
                HUB_ACCOUNT,
            ],
            check=True,
        )
    install_rule(readme_sudoers()[0])
    yield HUB_ACCOUNT
    SUDOERS.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def nonroot_hub(slurm, unix_users, hub_account, hub_workdir):
    """The hub as ``hub_account``: state/ (the README's /var/lib/aifnb) is its own, its working
    directory is root's; dashboards off, as the README says for a non-root hub."""
    account = pwd.getpwnam(hub_account)
    state = hub_workdir / "state"
    state.mkdir(mode=0o755)
    os.chown(state, account.pw_uid, account.pw_gid)
    extra = {
        "hub": {"data_dir": str(state / "hub"), "usage_log": str(state / "usage" / "sessions.jsonl")},
        "content": {"repo": str(state / "content")},
        "dashboards": {"enabled": False},
    }
    hub = Hub(hub_workdir, unix_users, extra=extra, run_as=hub_account).start()
    yield hub
    leftovers = [job for user in unix_users.values() for job in session_jobs(user)]
    hub.stop()
    assert leftovers == [], f"jobs left behind: {leftovers}"


def test_readme_sudoers_rules_are_valid():
    """Both sudoers blocks of the README (the rule and its narrowed form) pass visudo."""
    rules = readme_sudoers()
    assert len(rules) == 2, rules
    for rule in rules:
        checked = subprocess.run(["visudo", "-cf", "-"], input=rule, capture_output=True, text=True, check=False)
        assert checked.returncode == 0, f"{checked.stdout}{checked.stderr}\n{rule}"


def test_nonroot_hub_runs_a_learner_session_through_sudo(nonroot_hub, unix_users, hub_account):
    """As its own account, the hub submits a learner's cpu-course job as the learner (README sudo
    rule), JupyterLab answers through the proxy, the stop leaves no job, and every file the hub
    wrote is in its state folder."""
    hub = nonroot_hub
    account = pwd.getpwnam(hub_account)
    assert uid_of(hub.proc.pid) == account.pw_uid
    learner = unix_users["learners"]
    with hub.login(learner) as session:
        run_session(session)

    state = hub.workdir / "state"
    assert (state / "hub" / "jupyterhub-proxy.pid").is_file()
    assert sorted(p.name for p in hub.workdir.iterdir()) == ["hub.log", "site.yaml", "state"]
    foreign = [str(p) for p in state.rglob("*") if p.lstat().st_uid != account.pw_uid]
    assert foreign == [], f"files in the hub's state not owned by {hub_account}: {foreign[:5]}"
    events = [json.loads(line) for line in (state / "usage" / "sessions.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events if e["user"] == learner] == ["start", "stop"], events


def test_nonroot_hub_runs_a_session_with_the_narrowed_rule(nonroot_hub, unix_users):
    """The README's narrowed sudoers rule (exact arguments, no tail) still starts and stops a session."""
    install_rule(readme_sudoers()[1])
    try:
        with nonroot_hub.login(unix_users["learners"]) as session:
            run_session(session)
    finally:
        install_rule(readme_sudoers()[0])
