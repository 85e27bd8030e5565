"""``aifnb batch`` without Slurm: dry runs, refusals with exit status 2, and the usage table."""

from __future__ import annotations

import pytest
from aifnb_widgets.batch.queue import current_user
from aifnb_widgets.cli import main


@pytest.fixture
def member(tmp_path, monkeypatch):
    """A site file that makes whoever runs the tests a learner (demo mode: no hub API)."""
    site = tmp_path / "site.yaml"
    site.write_text(f"groups:\n  learners: {{users: [{current_user()}]}}\n")
    monkeypatch.setenv("AIFNB_SETTINGS", str(site))
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    return site


def test_dry_run_prints_the_script_with_typed_parameters_checked(member, double_notebook, tmp_path, capsys):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("- {X: 1}\n- {X: 2}\n")
    code = main(["batch", "submit", str(double_notebook), "-p", "RATE", "0.25", "-p", "SIZES", "[3]", "--sweep", str(sweep),
                 "--walltime", "00:10:00", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert "#SBATCH --array=0-1" in out and "#SBATCH --time=00:10:00" in out and "0.25" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [(["-p", "EPOCHS", "3"], "EPOCHS: the notebook's parameters cell does not declare it"),
     (["-p", "RATE", "fast"], "RATE: expected float"),
     (["--cpus", "9"], "cpus: 9 is outside this profile's range 1-4"),
     (["--gpus", "1"], "gpus: this profile fixes gpus at 0")],
)
def test_refusals_exit_2_with_one_line_naming_the_field(member, double_notebook, capsys, args, message):
    assert main(["batch", "submit", str(double_notebook), "--dry-run", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_usage_falls_back_to_platform_records_and_writes_csv(member, tmp_path, capsys):
    csv = tmp_path / "usage.csv"
    assert main(["batch", "usage", "--since", "2026-01-01", "--until", "2026-01-31", "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "source: " in out
    assert csv.read_text().splitlines()[0] == "scope,name,kind,source,jobs,hours,cpu_hours,gpu_hours"


def test_groups_come_from_the_hub_api_inside_a_session(monkeypatch, settings):
    """GET /users/{name} with the session's token; a token without the scope gives a clear error."""
    import httpx
    from aifnb_widgets.batch import api

    seen = {}

    def fake_get(url, headers, timeout):
        seen["url"], seen["auth"] = url, headers["Authorization"]
        status = 200 if headers["Authorization"] == "token good" else 403
        return httpx.Response(status, json={"name": "ana", "groups": ["companies"]}, request=httpx.Request("GET", url))

    monkeypatch.setattr(api.httpx, "get", fake_get)
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://hub:8081/hub/api/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "good")
    assert api.user_groups("ana", settings) == ["companies"]
    assert seen == {"url": "http://hub:8081/hub/api/users/ana", "auth": "token good"}
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "weak")
    with pytest.raises(api.BatchError, match="read:users:groups!user"):
        api.user_groups("ana", settings)
