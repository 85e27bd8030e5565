"""``aifnb batch`` without Slurm: dry runs, refusals with exit status 2, and the usage table."""

from __future__ import annotations

import pytest

from aifnb_widgets.batch.queue import current_user
from aifnb_widgets.cli import main


@pytest.fixture
def member(tmp_path, monkeypatch):
    """A site file that makes whoever runs the tests (root) a learner: outside a hub session, only root's groups come from it."""
    site = tmp_path / "site.yaml"
    site.write_text(f"groups:\n  learners: {{users: [{current_user()}]}}\n")
    monkeypatch.setenv("AIFNB_SETTINGS", str(site))
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    return site


def test_dry_run_prints_the_script_with_typed_parameters_checked(member, double_notebook, tmp_path, capsys):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("- {X: 1}\n- {X: 2}\n")
    code = main(
        [
            "batch",
            "submit",
            str(double_notebook),
            "-p",
            "RATE",
            "0.25",
            "-p",
            "SIZES",
            "[3]",
            "--sweep",
            str(sweep),
            "--walltime",
            "00:10:00",
            "--dry-run",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "#SBATCH --array=0-1" in out and "#SBATCH --time=00:10:00" in out and "0.25" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "EPOCHS", "3"], "EPOCHS: the notebook's parameters cell does not declare it"),
        (["-p", "RATE", "fast"], "RATE: expected float"),
        (["--cpus", "9"], "cpus: 9 is outside this profile's range 1-4"),
        (["--gpus", "1"], "gpus: this profile fixes gpus at 0"),
    ],
)
def test_refusals_exit_2_with_one_line_naming_the_field(member, double_notebook, capsys, args, message):
    """Each refusal is one line naming the field, after the line saying root's groups came from the settings."""
    assert main(["batch", "submit", str(double_notebook), "--dry-run", *args]) == 2
    note, *errors = capsys.readouterr().err.splitlines()
    assert note.startswith("aifnb: outside a hub session: groups of root taken from the settings' member lists (as root)")
    assert len(errors) == 1 and message in errors[0]


def test_usage_falls_back_to_platform_records_and_writes_csv(member, tmp_path, capsys):
    csv = tmp_path / "usage.csv"
    assert main(["batch", "usage", "--since", "2026-01-01", "--until", "2026-01-31", "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "source: " in out
    assert csv.read_text().splitlines()[0] == "scope,name,kind,source,jobs,hours,cpu_hours,gpu_hours"


def test_groups_come_from_the_hub_not_from_a_settings_file_the_user_names(monkeypatch, tmp_path, double_notebook, capsys):
    """Inside a session, a settings file (AIFNB_SETTINGS) listing the user in companies grants nothing: the hub says learners."""
    from tests.support.fake_hub import FakeHub, Token

    me = current_user()
    site = tmp_path / "my.yaml"
    site.write_text(f"groups:\n  companies: {{users: [{me}]}}\n  learners: {{users: [{me}]}}\n")
    hub = FakeHub(groups={me: ["learners"]}, tokens={"t": Token(me)}).start()
    try:
        monkeypatch.setenv("AIFNB_SETTINGS", str(site))
        for key, value in hub.session_env("t").items():
            monkeypatch.setenv(key, value)
        assert main(["batch", "submit", str(double_notebook), "--profile", "gpu-sandbox", "--dry-run"]) == 2
        err = capsys.readouterr().err
        refusal = "aifnb batch submit: error: profile: 'gpu-sandbox' is not available to you; choose one of cpu-course"
        assert err.splitlines() == [refusal]
        assert main(["batch", "submit", str(double_notebook), "--profile", "cpu-course", "--dry-run"]) == 0
        assert "#SBATCH --partition=cpu" in capsys.readouterr().out and hub.requests == ["/hub/api/user", "/hub/api/user"]
    finally:
        hub.stop()
