"""``aifnb data`` as root on the hub host (outside a session): list, show, path (logged), log; and the
refusal of anyone else outside a session. Sessions go through the hub: see the integration test."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from aifnb_widgets.cli import main
from tests.data.conftest import entry, served_entry

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="outside a hub session only root resolves catalogue names")


@pytest.fixture
def site(tmp_path, write_catalogue, own_group, monkeypatch):
    """A catalogue of iris (a closed file of this process's group) and a served model, named by AIFNB_SETTINGS."""
    root = tmp_path / "data"
    root.mkdir()
    (root / "iris.csv").write_text("a,b\n1,2\n3,4\n")
    (root / "iris.csv").chmod(0o640)
    served = served_entry()
    catalogue = write_catalogue([entry("iris") | {"unix_group": own_group}, served], root=root)
    path = tmp_path / "site.yaml"
    log = tmp_path / "usage" / "access.jsonl"
    path.write_text(yaml.safe_dump({"data_catalogue": {"files": [str(catalogue)], "roots": [str(root)], "access_log": str(log)}}))
    monkeypatch.setenv("AIFNB_SETTINGS", str(path))
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    return root, log


def test_list_show_path_and_log(site, capsys):
    """Root sees every entry; path prints the file (or endpoint) and logs the use; log prints table and CSV."""
    root, log = site
    assert main(["data", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split()[:3] == ["NAME", "KIND", "FORMAT"] and [line.split()[0] for line in listing[1:]] == [
        "iris",
        "served",
    ]
    assert main(["data", "show", "iris"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["card"]["legal_basis"] == "not-applicable" and shown["location"] == str(root / "iris.csv")
    assert main(["data", "path", "iris", "--purpose", "sandbox"]) == 0
    assert capsys.readouterr().out.strip() == str(root / "iris.csv")
    assert main(["data", "path", "served"]) == 0
    assert capsys.readouterr().out.strip() == "http://10.0.0.5:8000/v1 m"
    assert main(["data", "log", "--csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "time,user,entry,kind,purpose,job_id,location"
    assert [r.split(",")[1:5] for r in rows[1:]] == [
        ["root", "iris", "dataset", "sandbox"],
        ["root", "served", "model", "session"],
    ]
    assert main(["data", "log"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[1:5] == ["root", "iris", "dataset", "sandbox"]
    assert len(log.read_text().splitlines()) == 2 and oct(log.stat().st_mode & 0o777) == "0o640"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["path", "../etc/passwd"], "name: '../etc/passwd' is not allowed; entry names are"),
        (["path", "nope"], "no entry named 'nope'"),
        (["show", "x\n"], "name: 'x\\n' is not allowed"),
        (["path", "iris", "--purpose", "a b"], "purpose: 'a b' is not allowed"),
    ],
    ids=["dotdot", "unknown", "newline", "purpose"],
)
def test_bad_input_is_one_line_and_status_2(site, capsys, args, message):
    """Forged names and purposes end in one line naming the field, never a traceback."""
    assert main(["data", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_changed_file_is_refused_at_resolution(site, capsys):
    """A file opened to others after the catalogue was checked is refused when resolved."""
    root, _ = site
    (root / "iris.csv").chmod(0o644)
    assert main(["data", "path", "iris"]) == 2
    assert "grants access to others (mode 0644)" in capsys.readouterr().err


def test_others_outside_a_session_are_sent_to_their_session(site):
    """A non-root user outside a hub session cannot resolve names (the catalogue is the hub's)."""
    result = subprocess.run(
        ["runuser", "-u", "nobody", "--", sys.executable, "-m", "aifnb_widgets.cli", "data", "list"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "AIFNB_SETTINGS": os.environ["AIFNB_SETTINGS"]},
    )
    assert result.returncode == 2
    assert "this is not a hub session" in result.stderr and "use it from a terminal or notebook of your session" in result.stderr
