"""The platform installs as built: a wheel in a fresh environment starts a working hub without the checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.support.hub import Hub

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [
    "aifnb_hub/jupyterhub_config.py",
    "aifnb_hub/settings.yaml",
    "aifnb_hub/demo.yaml",
    "aifnb_hub/templates/home.html",
    "aifnb_slurm/templates/session.sh.j2",
    "aifnb_slurm/templates/bias_array.sh.j2",
    "aifnb_spawners/session_config/labconfig/page_config.json",
    "aifnb_spawners/session_config/jupyter_server_config.py",
    "aifnb_widgets/bias/data/prompts_en.tsv",
    "aifnb_widgets/teaching/courses/01-working-on-the-ai-factory.yaml",
    "aifnb_data/demo_catalogue.yaml",
]


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory) -> Path:
    """A fresh venv holding only the built wheel; its dependencies are the tests' own (a .pth line),
    and neither the checkout nor its editable install is on its path."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", "node_modules", "build", "*.egg-info", "artifacts", ".hypothesis", "__pycache__", ".pytest_cache"
        ),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp / "dist"), str(source)],
        check=True,
        capture_output=True,
    )
    [wheel] = (tmp / "dist").glob("aifnb-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert [n for n in SHIPPED if n not in names] == [], "files the hub needs are missing from the wheel"
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(
        subprocess.run(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "aifnb-test-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")  # the deps, not their .pth files
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    return venv


def test_wheel_holds_the_packages_and_nothing_comes_from_the_checkout(wheel_env):
    """Importing the platform in the wheel's environment finds the installed copy, not the checkout."""
    out = subprocess.run(
        [
            wheel_env / "bin" / "python",
            "-c",
            "import aifnb_hub, aifnb_slurm, aifnb_spawners, aifnb_widgets; print(aifnb_hub.__file__, aifnb_slurm.__file__, aifnb_spawners.__file__, aifnb_widgets.__file__)",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd="/",
    ).stdout.split()
    assert all(path.startswith(str(wheel_env)) for path in out), out


def test_installed_wheel_starts_a_hub_with_the_catalogue(wheel_env, unix_users, tmp_path):
    """aifnb-hub from the wheel serves the login and the home page; content.source names the notebooks."""
    hub = Hub(tmp_path, unix_users, {"content": {"source": str(ROOT / "notebooks"), "repo": str(tmp_path / "content")}})
    hub.command = [str(wheel_env / "bin" / "python"), "-m", "aifnb_hub.launch"]
    try:
        hub.start()
        with hub.login(unix_users["learners"]) as session:
            home = session.client.get("/hub/home")
            assert home.status_code == 200 and 'id="aifnb-catalogue"' in home.text
    finally:
        hub.stop()


def test_wheel_without_content_source_stops_naming_the_key(wheel_env, unix_users, tmp_path):
    """A wheel has no notebooks/: without content.source the hub stops naming that key (from the
    checkout the same settings would start, so this also proves the wheel's code is what ran)."""
    hub = Hub(tmp_path, unix_users, {"content": {"repo": str(tmp_path / "content")}})
    hub.command = [str(wheel_env / "bin" / "python"), "-m", "aifnb_hub.launch"]
    try:
        with pytest.raises(RuntimeError, match=r"content\.source: .* holds no catalogue\.yaml"):
            hub.start(timeout=60)
    finally:
        hub.stop()
