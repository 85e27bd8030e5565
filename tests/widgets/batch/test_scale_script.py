"""The notebook job's batch script: reviewed expected files, and what may never reach it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from aifnb_slurm.profiles import OptionError, resolve_request
from aifnb_slurm.validate import InvalidValue
from aifnb_widgets.batch.api import submit_notebook
from aifnb_widgets.batch.params import ParameterError
from aifnb_widgets.batch.script import render_job_script

EXPECTED = Path(__file__).with_name("expected")
PREFIX = "/home/alice/ai-factory-runs/train/20261123T180000Z-"


@pytest.mark.parametrize(
    ("name", "slug", "groups", "tasks"),
    [("single-cpu", "cpu-course", ["learners"], None), ("sweep-gpu", "gpu-sandbox", ["companies"], 3)],
)
def test_rendered_script_matches_expected_file(settings, name, slug, groups, tasks):
    request = resolve_request(settings.profiles, groups, {"profile": slug})
    script = render_job_script(
        request,
        job_name="aifnb-batch-train",
        homedir="/home/alice",
        run_prefix=PREFIX,
        log_path=PREFIX + ("%A_%a" if tasks else "%j") + "/job.log",
        python="/opt/aifnb/venv/bin/python",
        tasks=tasks,
        prologue="module load cuda" if tasks else "",
    )
    expected = EXPECTED / f"{name}.sh"
    if not expected.exists():
        expected.parent.mkdir(exist_ok=True)
        expected.write_text(script)
        pytest.fail(f"wrote {expected}; review it and run again")
    assert script == expected.read_text()


@pytest.mark.parametrize(
    "bad", ["/home/a b", "/home/a\n#SBATCH --uid=0", "/home/alice\n", "relative/path", "/home/../etc", "/home/a;rm", "/home/ａ"]
)
def test_paths_that_could_break_an_sbatch_line_are_refused(settings, bad):
    """A space, newline (even a trailing one), '..', ';' or non-ASCII letter in a path is refused, naming the field."""
    request = resolve_request(settings.profiles, ["learners"], {"profile": "cpu-course"})
    with pytest.raises(InvalidValue, match="^homedir: .*letters, digits and ._/[+]%- only") as info:
        render_job_script(
            request,
            job_name="aifnb-batch-x",
            homedir=bad,
            run_prefix=PREFIX,
            log_path=PREFIX + "%j/job.log",
            python=sys.executable,
        )
    assert info.value.field == "homedir"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("partition", "cpu\n"),
        ("walltime", "01:00:00\n#SBATCH --uid=0"),
        ("memory", "4G\n"),
        ("cpus", True),
        ("qos", "normal\n"),
        ("profile", "cpu-course\n"),
    ],
    ids=["partition", "walltime", "memory", "cpus-bool", "qos", "profile"],
)
def test_the_renderer_rechecks_every_request_value(settings, field, value):
    """A JobRequest built by hand (not through resolve_request) still cannot put a newline into the script."""
    from dataclasses import replace

    request = replace(resolve_request(settings.profiles, ["learners"], {"profile": "cpu-course"}), **{field: value})
    with pytest.raises(InvalidValue) as info:
        render_job_script(
            request,
            job_name="aifnb-batch-x",
            homedir="/home/a",
            run_prefix=PREFIX,
            log_path=PREFIX + "%j/job.log",
            python=sys.executable,
        )
    assert info.value.field == field


def test_dry_run_renders_resources_from_profile_and_no_parameter_value(settings, double_notebook):
    odd = '$(touch /tmp/pwned)"; exit 1 #'
    submission = submit_notebook(
        double_notebook,
        profile="cpu-course",
        parameters={"NAME": odd, "X": 7},
        resources={"cpus": 3, "walltime": "00:30:00"},
        groups=["learners"],
        settings=settings,
        dry_run=True,
    )
    assert submission.job_id is None and submission.folders == []
    lines = submission.script.splitlines()
    assert "#SBATCH --cpus-per-task=3" in lines and "#SBATCH --time=00:30:00" in lines
    assert "#SBATCH --job-name=aifnb-batch-double" in lines
    assert not any(line.startswith("#SBATCH --array") for line in lines)
    assert odd not in submission.script and "X" not in submission.script.split("set -euo pipefail")[1].replace("${", "")
    assert submission.parameter_sets == [{"NAME": odd, "X": 7}]
    json.dumps(submission.parameter_sets)


def test_dry_run_sweep_is_an_array_with_one_task_per_set(settings, double_notebook):
    submission = submit_notebook(
        double_notebook,
        profile="cpu-course",
        parameters={"NAME": "base"},
        sweep=[{"X": 1}, {"X": 2}, {"X": 3, "NAME": "own"}],
        groups=["learners"],
        settings=settings,
        dry_run=True,
    )
    assert "#SBATCH --array=0-2" in submission.script.splitlines()
    assert submission.parameter_sets == [{"NAME": "base", "X": 1}, {"NAME": "base", "X": 2}, {"NAME": "own", "X": 3}]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"parameters": {"EPOCHS": 2}}, "EPOCHS"),
        ({"parameters": {"X": "two"}}, "X"),
        ({"sweep": [{"X": 1}, {"RATE": "fast"}]}, "RATE"),
        ({"resources": {"cpus": 64}}, "cpus"),
        ({"resources": {"walltime": "99:00:00"}}, "walltime"),
        ({"resources": {"gpus": 1}}, "gpus"),
        ({"resources": {"memory": "1T"}}, "memory"),
        ({"profile": "gpu-training"}, "profile"),
    ],
)
def test_bad_requests_are_refused_before_submission_naming_the_field(settings, double_notebook, kwargs, field):
    """Dry run off: a refusal here means sbatch was never called (there is no Slurm in a unit test)."""
    kwargs = {"profile": "cpu-course", **kwargs}
    with pytest.raises((OptionError, ParameterError)) as info:
        submit_notebook(double_notebook, groups=["learners"], settings=settings, user="nobody-here", **kwargs)
    assert info.value.field == field
