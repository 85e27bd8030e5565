"""The bias job array's script: what it renders, what it refuses, and a real two-task run."""

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from aifnb_spawners.validate import InvalidValue
from aifnb_widgets.bias.scenario import default_scenario
from aifnb_widgets.bias.slurm import (
    prepare_array_job,
    read_models_file,
    render_array_script,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st


def test_rendered_script(tmp_path):
    script = render_array_script(tmp_path / "job", n_models=3, partition="gpu", gres="gpu:1", time_limit="02:00:00", python="/opt/venv/bin/python")
    lines = script.splitlines()
    assert lines[0] == "#!/bin/bash"
    assert "#SBATCH --array=0-2" in lines and "#SBATCH --partition=gpu" in lines and "#SBATCH --gres=gpu:1" in lines
    assert "#SBATCH --time=02:00:00" in lines and f"#SBATCH --output={tmp_path}/job/logs/%A_%a.out" in lines
    assert "set -euo pipefail" in lines
    assert lines.index("set -euo pipefail") > max(i for i, line in enumerate(lines) if line.startswith("#SBATCH"))
    assert f"JOB_DIR={tmp_path}/job" in lines
    assert 'TASK="${SLURM_ARRAY_TASK_ID:?not running as a Slurm array task}"' in lines
    assert 'exec /opt/venv/bin/python -m aifnb_widgets.cli bias run \\' in lines
    assert '    --models-file "$JOB_DIR/models.json" \\' in lines and '    --model-index "$TASK" \\' in lines
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def test_no_gres_line_without_gres(tmp_path):
    assert "--gres" not in render_array_script(tmp_path, n_models=1)


@pytest.mark.parametrize(
    "option, value",
    [("partition", "cpu\n#SBATCH --uid=0"), ("gres", "gpu:1; id"), ("time_limit", "$(reboot)"), ("job_name", "a b"), ("mem", "8G;"),
     # A trailing newline passed re.match(r"...$") before: each one is a new #SBATCH line.
     ("partition", "cpu\n"), ("gres", "gpu:1\n"), ("time_limit", "01:00:00\n"), ("mem", "8G\n"), ("job_name", "aifnb-bias\n"),
     ("cpus", "2\n"), ("cpus", True), ("python", "/usr/bin/python3\n"), ("mem", "８G"), ("time_limit", "٠١:00:00")],
    ids=["partition-newline-directive", "gres-semicolon", "time-subshell", "job-name-space", "mem-semicolon",
         "partition-trailing-newline", "gres-trailing-newline", "time-trailing-newline", "mem-trailing-newline",
         "job-name-trailing-newline", "cpus-text", "cpus-bool", "python-trailing-newline", "mem-fullwidth-digit", "time-arabic-digits"],
)
def test_injection_through_options_is_refused(tmp_path, option, value):
    """Each option outside its allow-list is refused with InvalidValue naming that option."""
    with pytest.raises(InvalidValue, match="not allowed") as info:
        render_array_script(tmp_path, n_models=1, **{option: value})
    assert info.value.field == option


#: Values an honest request would use, per option.
GOOD = {
    "partition": ["cpu", "gpu", "a100.big", "debug-1"],
    "gres": [None, "gpu:1", "gpu:a100:2"],
    "time_limit": ["01:00:00", "1-00:00:00", "00:10:00"],
    "mem": ["8G", "512M", "2T"],
    "job_name": ["aifnb-bias", "bias.run_2"],
    "python": ["/opt/aifnb/venv/bin/python", "/usr/bin/python3"],
    "cpus": [1, 2, 16, 256],
    "n_models": [1, 2, 1000],
    "job_dir": ["/scratch/bias", "/var/tmp/a.b"],
}
#: Tails that turn a good value into an attack or a near miss.
TAILS = ["", "\n", "\n#SBATCH --uid=0", "\r", "$(id)", "`id`", "'", '"', " ", ";id", "²", "٣", "\x00", "/../x", "\u2028"]
#: Characters no value from a request may bring into the script.
FORBIDDEN = ["\n", "\r", "$", "`", "'", '"', " ", ";", "\x00", "\u2028", "²", "٣"]
#: Every line a rendered script may have, whatever the request (values already matched their allow-lists).
LINE_SHAPES = [
    r"#!/bin/bash", r"# .*", r"#SBATCH --(job-name|partition|array|cpus-per-task|mem|time|gres|output)=[A-Za-z0-9_.:/%+-]+",
    r"set -euo pipefail", r"", r"JOB_DIR=/[A-Za-z0-9_./+%-]+", r'TASK="\$\{SLURM_ARRAY_TASK_ID:\?not running as a Slurm array task\}"',
    r'export OMP_NUM_THREADS="\$\{SLURM_CPUS_PER_TASK:-1\}"', r"exec /[A-Za-z0-9_./+%-]+ -m aifnb_widgets\.cli bias run \\",
    r'    --(scenario|models-file|model-index|out) "\$(JOB_DIR/[a-z.]+|TASK|JOB_DIR/tasks/\$TASK)"( \\)?',
]


@st.composite
def bias_requests(draw) -> dict:
    """An honest request with up to two options spoilt: an attack appended, arbitrary text, a number, a bool or None."""
    request = {name: draw(st.sampled_from(values)) for name, values in GOOD.items()}
    for name in draw(st.lists(st.sampled_from(sorted(GOOD)), max_size=2, unique=True)):
        honest = str(request[name] or "gpu:1")
        request[name] = draw(st.one_of(st.sampled_from(TAILS).map(lambda tail, honest=honest: honest + tail), st.text(max_size=12),
                                       st.integers(-3, 3000), st.booleans(), st.none()))
    return request


@settings(max_examples=10_000, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(request=bias_requests())
def test_fuzzed_bias_array_requests_put_no_raw_value_into_the_script(request):
    """10,000 requests: each is refused with InvalidValue naming one of its options, or renders a script whose every line has a known shape and which holds none of the request's forbidden characters."""
    try:
        script = render_array_script(**request)
    except InvalidValue as exc:
        assert exc.field in request
        event(f"refused: {exc.field}")
        return
    event("rendered")
    for name, value in request.items():
        if isinstance(value, str):
            assert not any(ch in value for ch in FORBIDDEN), f"{name}={value!r} was accepted"
    lines = script.splitlines()
    assert len(lines) == len(script.split("\n")) - 1, "a stray line break"
    for line in lines:
        assert any(re.fullmatch(shape, line, flags=re.ASCII) for shape in LINE_SHAPES), f"unexpected line {line!r}"
    assert sum(line.startswith("#SBATCH --gres=") for line in lines) == (1 if request["gres"] else 0)



def test_job_dir_with_shell_characters_is_refused(tmp_path):
    """A job folder with shell syntax in its name is refused, naming job_dir."""
    with pytest.raises(InvalidValue, match="^job_dir: .* not allowed") as info:
        render_array_script(tmp_path / "x$(id)", n_models=1)
    assert info.value.field == "job_dir"


def test_models_go_to_a_file_never_into_the_script(tmp_path):
    models = ["/scratch/m1", "http://gpu01:8000/v1#llama"]
    script = prepare_array_job(tmp_path / "job", default_scenario(n_templates=1), models)
    assert all(m not in script.read_text() for m in models)
    assert json.loads((tmp_path / "job" / "models.json").read_text()) == models
    assert read_models_file(tmp_path / "job" / "models.json", 1) == models[1]
    with pytest.raises(ValueError, match="no model at index 2"):
        read_models_file(tmp_path / "job" / "models.json", 2)
    with pytest.raises(ValueError, match="not allowed"):
        prepare_array_job(tmp_path / "bad", default_scenario(), ["m; rm -rf /"])


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_two_task_array_on_real_slurm_merges_into_one_leaderboard(slurm, unix_users):
    """Submitted as a test user through the real sbatch; both tasks' records merge into one table."""
    from aifnb_widgets.models.tiny import build_tiny_causal_lm, build_tiny_seq2seq

    user = unix_users["companies"]
    # Outside pytest's root-only tmp tree: the test user and the Slurm job must reach it.
    job_dir = Path(tempfile.mkdtemp(prefix="aifnb-bias-array-", dir="/var/tmp"))
    try:
        _submit_and_merge(slurm, user, job_dir, build_tiny_causal_lm, build_tiny_seq2seq)
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)


def _submit_and_merge(slurm, user, job_dir, build_tiny_causal_lm, build_tiny_seq2seq):
    gpt2 = build_tiny_causal_lm(job_dir / "models" / "gpt2")
    t5 = build_tiny_seq2seq(job_dir / "models" / "t5")
    subprocess.run(["chown", "-R", user, str(job_dir)], check=True)

    run_as = ["runuser", "-u", user, "--"]
    submit = subprocess.run(
        [*run_as, sys.executable, "-m", "aifnb_widgets.cli", "bias", "submit", "--job-dir", str(job_dir / "array"),
         "--model", str(gpt2), "--model", str(t5), "--languages", "en", "--concerns", "gender,politics",
         "--n-templates", "2", "--partition", slurm["default_partition"], "--time", "00:10:00", "--mem", "2G", "--cpus", "1"],
        capture_output=True, text=True, check=False,
    )
    assert submit.returncode == 0, submit.stderr
    job_id = submit.stdout.split("array job ")[1].split()[0]

    deadline = time.time() + 480
    while time.time() < deadline:
        queued = subprocess.run(["squeue", "-h", "-j", job_id], capture_output=True, text=True, check=False).stdout.strip()
        if not queued:
            break
        time.sleep(2)
    logs = "\n".join(p.read_text() for p in sorted((job_dir / "array" / "logs").glob("*.out")))
    assert not queued, f"array {job_id} still queued; logs:\n{logs}"

    merge = subprocess.run([*run_as, sys.executable, "-m", "aifnb_widgets.cli", "bias", "merge", str(job_dir / "array")], capture_output=True, text=True, check=False)
    assert merge.returncode == 0, merge.stderr + logs
    results = json.loads((job_dir / "array" / "merged" / "results.json").read_text())
    # The LangBiTe-compatible spec, whatever its version (the specs are versioned by the bias engine).
    table = next(board for name, board in results["leaderboards"].items() if name.startswith("langbite-compat-"))
    assert {str(gpt2), str(t5), "baseline: always No", "baseline: always refuses"} <= set(table)
    assert set(table[str(gpt2)]) == {"Gender", "Political", "Mean"}
