import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from aifnb_widgets.bias.scenario import default_scenario
from aifnb_widgets.bias.slurm import prepare_array_job, read_models_file, render_array_script


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
    [("partition", "cpu\n#SBATCH --uid=0"), ("gres", "gpu:1; id"), ("time_limit", "$(reboot)"), ("job_name", "a b"), ("mem", "8G;")],
)
def test_injection_through_options_is_refused(tmp_path, option, value):
    with pytest.raises(ValueError, match="not allowed"):
        render_array_script(tmp_path, n_models=1, **{option: value})


def test_job_dir_with_shell_characters_is_refused(tmp_path):
    with pytest.raises(ValueError, match="path .* not allowed"):
        render_array_script(tmp_path / "x$(id)", n_models=1)


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
        capture_output=True, text=True,
    )
    assert submit.returncode == 0, submit.stderr
    job_id = submit.stdout.split("array job ")[1].split()[0]

    deadline = time.time() + 480
    while time.time() < deadline:
        queued = subprocess.run(["squeue", "-h", "-j", job_id], capture_output=True, text=True).stdout.strip()
        if not queued:
            break
        time.sleep(2)
    logs = "\n".join(p.read_text() for p in sorted((job_dir / "array" / "logs").glob("*.out")))
    assert not queued, f"array {job_id} still queued; logs:\n{logs}"

    merge = subprocess.run([*run_as, sys.executable, "-m", "aifnb_widgets.cli", "bias", "merge", str(job_dir / "array")], capture_output=True, text=True)
    assert merge.returncode == 0, merge.stderr + logs
    results = json.loads((job_dir / "array" / "merged" / "results.json").read_text())
    table = results["leaderboards"]["langbite-compat-1"]
    assert {str(gpt2), str(t5), "baseline: always No", "baseline: always refuses"} <= set(table)
    assert set(table[str(gpt2)]) == {"Gender", "Political", "Mean"}
