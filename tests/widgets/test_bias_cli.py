import json
import subprocess
import sys

import pytest

from aifnb_widgets.cli import main


def test_run_then_report_rescores_without_the_model(tmp_path, always_no_dir, capsys):
    out = tmp_path / "run"
    code = main(["bias", "run", "--model", str(always_no_dir), "--out", str(out), "--languages", "en", "--n-templates", "1", "--concerns", "Gender,ageism"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "[langbite-compat-1]" in printed and "baseline: always No" in printed
    for name in ("plan.json", "scenario.json", "leaderboard.csv", "results.json", "report.html", "tests.csv"):
        assert (out / name).is_file()
    first = json.loads((out / "results.json").read_text())
    assert set(first["leaderboards"]) == {"langbite-compat-1", "aifnb-1"}

    assert main(["bias", "report", str(out), "--out", str(tmp_path / "again"), "--spec", "aifnb-1"]) == 0
    again = json.loads((tmp_path / "again" / "results.json").read_text())
    assert again["leaderboards"]["aifnb-1"] == first["leaderboards"]["aifnb-1"]
    html = (out / "report.html").read_text()
    assert "plotly" in html and "<script" in html and 'src="https://cdn.plot.ly' not in html


@pytest.mark.parametrize(
    "argv, message",
    [
        (["bias", "run", "--model", "/nonexistent/model", "--out", "{tmp}/r"], "model path /nonexistent/model does not exist"),
        (["bias", "run", "--model", "m", "--out", "{tmp}/r", "--concerns", "sizeism"], "unknown concern 'sizeism'"),
        (["bias", "run", "--model", "m", "--out", "{tmp}/r", "--scenario", "{tmp}/none.json"], "does not exist"),
        (["bias", "run", "--out", "{tmp}/r"], "no model given"),
        (["bias", "report", "{tmp}"], "not a run directory"),
        (["bias", "check-library", "{tmp}/none.tsv"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path, capsys, argv, message):
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    assert message in capsys.readouterr().err


def test_check_library_counts_templates(capsys):
    from aifnb_widgets.bias.library import builtin_library_path

    assert main(["bias", "check-library", str(builtin_library_path("fr"))]) == 0
    assert "70 templates" in capsys.readouterr().out


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "aifnb_widgets.cli", "bias", "--help"], capture_output=True, text=True, check=True)
    assert "submit" in result.stdout and "merge" in result.stdout
