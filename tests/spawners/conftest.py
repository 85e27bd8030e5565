"""Spawners built without a hub: a stand-in user, the shipped profiles, and scripted Slurm commands."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from jupyterhub.objects import Hub

from aifnb_hub.settings import load_settings
from aifnb_slurm.slurm import SlurmClient
from aifnb_spawners import spawner as spawner_module
from aifnb_spawners.spawner import FactorySlurmSpawner

PROFILES = [p.model_dump(mode="json", exclude_none=True) for p in load_settings().profiles]


def make_spawner(name: str = "alice", groups=("learners",), home: str | None = None, **traits) -> FactorySlurmSpawner:
    user = SimpleNamespace(
        name=name,
        groups=[SimpleNamespace(name=g) for g in groups],
        url=f"/user/{name}/",
        escaped_name=name,
        server=None,
        base_url="/",
        settings={},
        orm_spawners={},
        id=1,
    )
    traits.setdefault("profiles", PROFILES)
    traits.setdefault("environment", {"PATH": "/opt/aifnb/venv/bin:/usr/bin:/bin"})
    return FactorySlurmSpawner(
        user=user,
        hub=Hub(),
        api_token="token-for-tests",
        oauth_client_id=f"jupyterhub-user-{name}",
        req_homedir=home or f"/home/{name}",
        python_prefix="/opt/aifnb/venv",
        session_config_dir="/opt/aifnb/session_config",
        **traits,
    )


class _AnyAccount:
    """Stands in for the account policy: the stand-in users above have no Unix account."""

    def check(self, name: str) -> None:
        return None


@pytest.fixture(autouse=True)
def fresh_slurm_client():
    """Each test gets its own SlurmClient (the hub's shared squeue/sinfo), as a new hub would."""
    SlurmClient.clear_instance()
    yield
    SlurmClient.clear_instance()


@pytest.fixture(autouse=True)
def any_account(request, monkeypatch) -> None:
    """Spawners here serve made-up users; modules with ``REAL_ACCOUNTS = True`` test the real policy."""
    if not getattr(request.module, "REAL_ACCOUNTS", False):
        monkeypatch.setattr(FactorySlurmSpawner, "account_policy", property(lambda self: _AnyAccount()))


FAKE_SLURM = textwrap.dedent(
    """\
    #!{python}
    # Scripted Slurm client: each call takes the next answer of its command from a JSON file.
    import json, os, sys, time
    name = os.path.basename(sys.argv[0])
    path = os.path.join(os.path.dirname(sys.argv[0]), "answers.json")
    answers = json.load(open(path))
    queue = answers.get(name, [])
    answer = queue.pop(0) if len(queue) > 1 else (queue[0] if queue else {{"out": ""}})
    json.dump(answers, open(path, "w"))
    with open(os.path.join(os.path.dirname(sys.argv[0]), "calls.log"), "a") as log:
        log.write(" ".join(sys.argv) + "\\n")
    time.sleep(answer.get("sleep", 0))
    sys.stdout.write(answer.get("out", ""))
    sys.stderr.write(answer.get("err", ""))
    sys.exit(answer.get("rc", 0))
    """
)


class ScriptedSlurm:
    """sbatch/squeue/scancel on PATH that answer from a script the test writes."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = f"{folder}:{os.environ['PATH']}"

    def answers(self, **by_command: list[dict]) -> None:
        import json

        (self.folder / "answers.json").write_text(json.dumps(by_command))

    def calls(self) -> list[str]:
        log = self.folder / "calls.log"
        return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def scripted_slurm(tmp_path, monkeypatch) -> ScriptedSlurm:
    import sys

    folder = tmp_path / "bin"
    folder.mkdir()
    for command in ("sbatch", "squeue", "scancel"):
        script = folder / command
        script.write_text(FAKE_SLURM.format(python=sys.executable))
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")  # squeue runs with the hub's PATH
    # Run the commands as ourselves: the conversation, not runuser, is under test here.
    monkeypatch.setattr(spawner_module, "run_as_prefix", lambda name, policy=None: [])
    slurm = ScriptedSlurm(folder)
    slurm.answers()
    return slurm
