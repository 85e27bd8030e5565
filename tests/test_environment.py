"""The conda environment and the pip project pin the same versions."""

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
