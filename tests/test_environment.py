"""The conda environment and the pip project pin the same versions."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for req in requirements:
        if "==" in req:
            name, version = req.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def test_environment_yml_mirrors_pyproject_pins():
    """Every pinned runtime dependency of pyproject.toml appears in environment.yml with the same version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins(pip_section) == _pins(project["dependencies"])


def test_every_dependency_is_pinned_exactly():
    """A range would let CI and a user's session drift apart (and can pull a multi-GB CUDA torch)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    loose = [r for r in project["dependencies"] if "==" not in r]
    assert loose == []


def _lock() -> dict[str, str]:
    lines = (ROOT / ".ci" / "requirements.lock").read_text().splitlines()
    pins = _pins([line for line in lines if line and not line.startswith("#")])
    return {name.replace("_", "-"): version.split("+")[0] for name, version in pins.items()}


def test_lock_file_holds_every_pin_of_pyproject():
    """.ci/requirements.lock (what CI installs) has each pyproject pin, runtime and test, at the same version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _pins([*project["dependencies"], *project["optional-dependencies"]["test"]])
    lock = _lock()
    wanted = {name.split("[")[0].replace("_", "-"): version for name, version in wanted.items()}
    assert {name: lock.get(name) for name in wanted} == wanted, "run bash .ci/lock after changing a pin"


def test_lock_file_pins_everything_exactly():
    """Every line of the lock is NAME==VERSION: nothing is resolved at install time."""
    lines = [line for line in (ROOT / ".ci" / "requirements.lock").read_text().splitlines() if line and not line.startswith("#")]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.-]+==[A-Za-z0-9_.+!-]+", line) for line in lines), lines[:5]
