"""The platform's own work logs to the hub's MLflow service with nothing to set up: Scale & Run jobs and sweeps
submitted from a real Slurm session, bias assessments (CLI and dashboard), and registered models the bias engine
loads by ``models:/NAME/VERSION`` in another user's process. Real hub, proxy, Slurm and MLflow server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

from aifnb_widgets import mlops
from aifnb_widgets.batch.layout import RUNS_DIR, read_record
from tests.hub.mlflow.conftest import (
    ALICE,
    BOB,
    CAROL,
    MLFLOW,
    Tracking,
    cpu_session,
    run_in_kernel,
    user_token,
    wait_no_session_job,
)
from tests.widgets.batch.conftest import write_notebook

pytestmark = pytest.mark.integration

#: Seconds a batch job or sweep of the tiny notebook may take on a loaded node.
JOB_WAIT = 240
TRAIN = (
    "import json, os\n"
    "import mlflow\n"
    "loss = 1.0 / (1.0 + 10 * LR)\n"
    "json.dump({'loss': loss, 'optimiser': 'sgd'}, open(METRICS_PATH, 'w'))\n"
    "mlflow.MlflowClient().log_metric(os.environ['AIFNB_MLFLOW_JOB_RUN_ID'], 'direct', 1.0)\n"
)


@pytest.fixture(scope="module")
def tokens(mlflow_hub) -> dict[str, str]:
    return {name: user_token(mlflow_hub, name) for name in (ALICE, BOB, CAROL)}


@pytest.fixture(scope="module")
def api(mlflow_hub, tokens):
    clients = {name: Tracking(mlflow_hub, token) for name, token in tokens.items()}
    yield clients
    for client in clients.values():
        client.client.close()


@pytest.fixture
def shared_dir():
    """A folder the learner's jobs read notebooks from and write metrics into."""
    path = Path(tempfile.mkdtemp(prefix="aifnb-mlops-", dir="/var/tmp"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def as_user_env(hub, tokens: dict[str, str], user: str) -> dict[str, str]:
    """A process's environment with the hub's MLflow service as ``user`` (the variables a session gets); none of
    this process's MLflow variables (``mlflow.set_experiment`` in an earlier test leaves MLFLOW_EXPERIMENT_ID)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")},
        "MLFLOW_TRACKING_URI": f"{hub.url}{MLFLOW}",
        "MLFLOW_TRACKING_TOKEN": tokens[user],
        "MLFLOW_EXPERIMENT_NAME": user,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
    }


def wait_final(folders: list[Path]) -> None:
    deadline = time.monotonic() + JOB_WAIT
    while time.monotonic() < deadline:
        if all(read_record(f).status in ("completed", "failed", "cancelled") for f in folders):
            return
        time.sleep(1)
    logs = "\n".join((f / "job.log").read_text(errors="replace")[-1500:] for f in folders if (f / "job.log").exists())
    pytest.fail(f"batch runs did not finish in {JOB_WAIT}s:\n{logs}")


def logged_run(api, folder: Path) -> dict:
    run_id = json.loads((folder / mlops.RUN_LINK_FILE).read_text())["run_id"]
    return api[ALICE].ok(api[ALICE].get("runs/get", run_id=run_id))["run"]


def params(run: dict) -> dict[str, str]:
    return {p["key"]: p["value"] for p in run["data"].get("params", [])}


def metrics(run: dict) -> dict[str, float]:
    return {m["key"]: m["value"] for m in run["data"].get("metrics", [])}


SUBMIT = """
from aifnb_widgets.batch.api import submit_notebook
notebook = {notebook!r}
single = submit_notebook(notebook, profile="cpu-course", parameters={{"LR": 0.5, "METRICS_PATH": "single.json"}})
sweep = submit_notebook(
    notebook, profile="cpu-course",
    sweep=[{{"LR": lr, "METRICS_PATH": f"task{{i}}.json"}} for i, lr in enumerate([0.1, 0.01, 0.001])],
)
print("SINGLE", single.folders[0])
print("SWEEP", sweep.job_id, *sweep.folders)
"""


def test_scale_and_run_job_and_sweep_from_a_session_log_runs_under_the_learners_experiment(
    mlflow_hub, api, shared_dir, monkeypatch
):
    """From a real Slurm session, Scale & Run's API submits a job and a 3-point sweep with no MLflow code: the job is one
    run in the learner's experiment (parameters, the notebook's metrics JSON, the executed notebook, FINISHED), the sweep
    a parent with 3 child runs that the last task ends; the credential is 0600 and the learner's; the jobs panel links
    each run; another user gets 403. The hub home and JupyterLab's MLflow tile lead to the service."""
    from aifnb_widgets.ui.jobs_panel import JobsPanel

    notebook = write_notebook(shared_dir / "train.ipynb", 'LR = 0.1\nMETRICS_PATH = "metrics.json"', TRAIN)
    runs_home = Path(os.path.expanduser(f"~{ALICE}")) / RUNS_DIR
    shutil.rmtree(runs_home, ignore_errors=True)
    # The jobs outlive the session (stopped on leaving the block): their token is the MLflow service's own.
    with cpu_session(mlflow_hub, ALICE) as (session, token):
        result = run_in_kernel(mlflow_hub, ALICE, token, SUBMIT.format(notebook=str(notebook)))
        tile = httpx.get(f"{mlflow_hub.url}/user/{ALICE}/mlflow/", headers={"Authorization": f"token {token}"}, timeout=60)
        home = session.client.get("/hub/home")
    assert wait_no_session_job(ALICE) == []
    assert result["error"] is None, result
    assert tile.status_code == 302 and tile.headers["location"] == f"{mlflow_hub.url}{MLFLOW}/", tile.text[:300]
    assert re.search(rf'<a id="mlflow-ui"[^>]* href="{MLFLOW}/"', home.text), home.text[:2000]
    single = Path(re.search(r"SINGLE (\S+)", result["stdout"]).group(1))
    sweep_job, *sweep_folders = re.search(r"SWEEP (.+)", result["stdout"]).group(1).split()
    sweep_folders = [Path(f) for f in sweep_folders]
    wait_final([single, *sweep_folders])
    assert [read_record(f).status for f in (single, *sweep_folders)] == ["completed"] * 4

    for folder in (single, *sweep_folders):
        credential = folder / mlops.CREDENTIAL_FILE
        assert oct(credential.stat().st_mode & 0o777) == "0o600" and credential.owner() == ALICE
    job = logged_run(api, single)
    assert job["info"]["status"] == "FINISHED" and job["info"]["user_id"] == ALICE and job["info"]["run_name"] == "train"
    experiment = job["info"]["experiment_id"]
    alice = api[ALICE]
    assert alice.ok(alice.get("experiments/get", experiment_id=experiment))["experiment"]["name"] == ALICE
    assert params(job) == {"LR": "0.5", "METRICS_PATH": "single.json"}
    assert metrics(job) == {"loss": pytest.approx(1 / 6), "direct": 1.0}
    files = {f["path"] for f in alice.ok(alice.get("artifacts/list", run_id=job["info"]["run_id"]))["files"]}
    assert files == {"executed.ipynb", "single.json"}
    assert api[BOB].get("runs/get", run_id=job["info"]["run_id"]).status_code == 403

    children = [logged_run(api, folder) for folder in sweep_folders]
    parents = {{t["key"]: t["value"] for t in c["data"]["tags"]}["mlflow.parentRunId"] for c in children}
    assert len(parents) == 1
    parent = alice.ok(alice.get("runs/get", run_id=parents.pop()))["run"]
    assert parent["info"]["run_name"] == "sweep of train.ipynb" and parent["info"]["experiment_id"] == experiment
    assert params(parent) == {"tasks": "3"} and parent["info"]["status"] == "FINISHED"
    assert [c["info"]["run_name"] for c in children] == ["train[0]", "train[1]", "train[2]"]
    assert [params(c)["LR"] for c in children] == ["0.1", "0.01", "0.001"]
    assert [metrics(c)["loss"] for c in children] == pytest.approx([0.5, 1 / 1.1, 1 / 1.01])
    assert {c["info"]["status"] for c in children} == {"FINISHED"}

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"{mlflow_hub.url}{MLFLOW}")  # as in the learner's session
    panel = JobsPanel(ALICE)
    panel.refresh()
    row = panel.row(f"{sweep_job}_1")
    page = f"{mlflow_hub.url}{MLFLOW}/#/experiments/{experiment}/runs/{children[1]['info']['run_id']}"
    assert row["mlflow"] == page and f'href="{page}"' in panel.table.value
    shutil.rmtree(runs_home, ignore_errors=True)


def test_bias_assessment_logs_its_runs_from_the_cli_and_the_dashboard(mlflow_hub, api, tokens, tmp_path, monkeypatch):
    """`aifnb bias run` and the bias dashboard each log one run per model with no MLflow code: scores with intervals,
    coverage, the plan's digest and the records file; the CLI prints the run's page, the dashboard links it."""
    import mlflow

    from aifnb_widgets.bias.plan import Plan
    from aifnb_widgets.models.tiny import build_tiny_causal_lm
    from aifnb_widgets.ui.bias_app import BiasAssessmentApp

    model = str(build_tiny_causal_lm(tmp_path / "tiny-lm"))
    out = tmp_path / "cli-run"
    argv = [sys.executable, "-m", "aifnb_widgets.cli", "bias", "run", "--model", model, "--languages", "en",
            "--concerns", "ageism", "--n-templates", "2", "--out", str(out)]  # fmt: skip
    done = subprocess.run(argv, env=as_user_env(mlflow_hub, tokens, ALICE), capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 3), done.stderr[-2000:]
    logged = re.search(rf"MLflow run of {re.escape(model)}: (\S+)", done.stdout)
    assert logged, f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    page = logged.group(1)
    run_id = page.rsplit("/", 1)[1]
    alice = api[ALICE]
    run = alice.ok(alice.get("runs/get", run_id=run_id))["run"]
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    plan_digest = Plan.load(out / "plan.json").digest
    assert tags["aifnb.kind"] == "bias" and tags["aifnb.library_digest"] == plan_digest
    found = metrics(run)
    assert 0.0 <= found["coverage"] <= 1.0
    for key in (k for k in found if k.endswith(".score")):
        stem = key.removesuffix(".score")
        assert found[f"{stem}.low"] <= found[key] <= found[f"{stem}.high"]
    files = [f["path"] for f in alice.ok(alice.get("artifacts/list", run_id=run_id))["files"]]
    assert len(files) == 1 and files[0].endswith(".jsonl")
    assert api[BOB].get("runs/get", run_id=run_id).status_code == 403

    # As a fresh session's kernel: no MLflow state of earlier tests (their mlflow.set_experiment, on another hub,
    # is this process's active experiment and its MLFLOW_EXPERIMENT_ID).
    monkeypatch.setattr(mlflow.tracking.fluent, "_active_experiment_id", None)
    for name in [k for k in os.environ if k.startswith("MLFLOW_")]:
        monkeypatch.delenv(name)
    for name, value in as_user_env(mlflow_hub, tokens, ALICE).items():
        if name.startswith(("MLFLOW_", "HF_")):
            monkeypatch.setenv(name, value)
    app = BiasAssessmentApp(models=[model], n_templates=1)
    app.categories.value = app.categories.options[:1]
    app.run(wait=True)
    assert list(app.mlflow_runs) == [model], app.status.value + app.mlflow_links.value
    dashboard_run = app.mlflow_runs[model].rsplit("/", 1)[1]
    in_experiment = alice.ok(alice.get("runs/get", run_id=dashboard_run))["run"]["info"]["experiment_id"]
    assert in_experiment == run["info"]["experiment_id"] and api[BOB].get("runs/get", run_id=dashboard_run).status_code == 403
    assert f"href='{app.mlflow_runs[model]}'" in app.mlflow_links.value


REGISTER = """
import mlflow
from transformers import AutoModelForCausalLM, AutoTokenizer
from aifnb_widgets.models.tiny import build_tiny_causal_lm
path = build_tiny_causal_lm({folder!r})
mlflow.set_experiment({experiment!r})
with mlflow.start_run(run_name="tiny-lm"):
    info = mlflow.transformers.log_model(
        transformers_model={{"model": AutoModelForCausalLM.from_pretrained(path), "tokenizer": AutoTokenizer.from_pretrained(path)}},
        name="model", task="text-generation", registered_model_name={name!r},
        pip_requirements=["torch", "transformers"],
    )
print("VERSION", info.registered_model_version)
"""
LOAD = """
from aifnb_widgets.backends.base import BackendError
from aifnb_widgets.backends.hf import HFBackend
try:
    backend = HFBackend({uri!r}, device="cpu")
except BackendError as exc:
    print("REFUSED", exc)
else:
    print("LOADED", backend.revision, backend.generate(["Yes"]))
"""


def test_model_registered_by_one_user_loads_by_uri_in_another_users_process_and_bias_run(mlflow_hub, api, tokens, tmp_path):
    """Alice registers a tiny transformers model; once shared with companies, Carol's process loads it by
    models:/NAME/VERSION in the bias engine's backend and assesses it with `aifnb bias run --model models:/...`,
    logged in Carol's experiment; Bob (not in the group) is refused with an error naming the service."""
    name = f"{ALICE}-tiny-lm-{uuid.uuid4().hex[:6]}"
    experiment = f"{ALICE}/registry"
    code = REGISTER.format(folder=str(tmp_path / "tiny-lm"), experiment=experiment, name=name)
    registered = subprocess.run(
        [sys.executable, "-c", code], env=as_user_env(mlflow_hub, tokens, ALICE), capture_output=True, text=True, timeout=300
    )
    assert registered.returncode == 0, registered.stderr[-3000:]
    version = re.search(r"VERSION (\d+)", registered.stdout).group(1)
    uri = f"models:/{name}/{version}"

    def load(user: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", LOAD.format(uri=uri)],
            env=as_user_env(mlflow_hub, tokens, user), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    refused = load(CAROL)
    assert refused.startswith("REFUSED") and "MLflow service" in refused, refused
    alice = api[ALICE]
    shared = alice.client.post(
        "/aifnb/api/share", json={"resource": "registered_model", "id": name, "group": "companies", "permission": "READ"}
    )
    assert shared.status_code == 200, shared.text
    experiment_id = alice.ok(alice.get("experiments/get-by-name", experiment_name=experiment))["experiment"]["experiment_id"]
    assert alice.share(experiment_id, "companies", "READ").status_code == 200

    loaded = load(CAROL)
    assert loaded.startswith(f"LOADED {uri} ["), loaded
    assert load(BOB).startswith("REFUSED")

    out = tmp_path / "carol-bias"
    argv = [sys.executable, "-m", "aifnb_widgets.cli", "bias", "run", "--model", uri, "--languages", "en",
            "--concerns", "ageism", "--n-templates", "1", "--out", str(out)]  # fmt: skip
    done = subprocess.run(argv, env=as_user_env(mlflow_hub, tokens, CAROL), capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 3), done.stderr[-2000:]
    run_id = re.search(rf"MLflow run of {re.escape(uri)}: \S+/runs/(\w+)", done.stdout).group(1)
    carol = api[CAROL]
    run = carol.ok(carol.get("runs/get", run_id=run_id))["run"]
    experiment = carol.ok(carol.get("experiments/get", experiment_id=run["info"]["experiment_id"]))["experiment"]
    assert experiment["name"] == CAROL and params(run)["model"] == uri


def test_bias_array_tasks_log_their_runs(mlflow_hub, api, tokens, shared_dir):
    """`aifnb bias submit` in the learner's shell (her hub token, as a session's terminal has it) hands each Slurm array
    task a credential of its own: each task's assessment is a run in her experiment, its page in the task's log."""
    from aifnb_widgets.models.tiny import build_tiny_causal_lm

    models = [str(build_tiny_causal_lm(shared_dir / f"tiny-{seed}", seed=seed)) for seed in (0, 1)]
    subprocess.run(["chmod", "-R", "a+rX", *models], check=True)  # built by root, read by the learner's jobs
    job_dir = shared_dir / "bias-job"
    env = {
        **as_user_env(mlflow_hub, tokens, ALICE),
        "HOME": os.path.expanduser(f"~{ALICE}"),
        "JUPYTERHUB_API_URL": f"{mlflow_hub.url}/hub/api",
        "JUPYTERHUB_API_TOKEN": tokens[ALICE],
        "AIFNB_SETTINGS": str(mlflow_hub.settings_path),
    }
    argv = ["runuser", "-u", ALICE, "--", sys.executable, "-m", "aifnb_widgets.cli", "bias", "submit",
            "--model", models[0], "--model", models[1], "--job-dir", str(job_dir), "--profile", "cpu-course",
            "--languages", "en", "--concerns", "ageism", "--n-templates", "1"]  # fmt: skip
    submitted = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, cwd=shared_dir)
    assert submitted.returncode == 0, submitted.stderr[-2000:]
    job_id = re.search(r"submitted array job (\d+)", submitted.stdout).group(1)
    runs_home = Path(env["HOME"]) / RUNS_DIR
    folders = sorted(runs_home.glob(f"bias-*/*-{job_id}_*"))
    assert len(folders) == 2
    try:
        wait_final(folders)
        logs = "\n".join(p.read_text(errors="replace")[-2500:] for p in sorted((job_dir / "logs").glob("*.out")))
        assert [read_record(f).status for f in folders] == ["completed"] * 2, logs
        alice = api[ALICE]
        for task, model in enumerate(models):
            log = (job_dir / "logs" / f"{job_id}_{task}.out").read_text(errors="replace")
            logged = re.search(rf"MLflow run of {re.escape(model)}: \S+/runs/(\w+)", log)
            assert logged, log[-3000:]
            run_id = logged.group(1)
            run = alice.ok(alice.get("runs/get", run_id=run_id))["run"]
            experiment = alice.ok(alice.get("experiments/get", experiment_id=run["info"]["experiment_id"]))["experiment"]
            assert experiment["name"] == ALICE and params(run)["model"] == model
            assert api[BOB].get("runs/get", run_id=run_id).status_code == 403
            # The task's run folder links its run, as the jobs panel shows it.
            assert json.loads((folders[task] / mlops.RUN_LINK_FILE).read_text())["run_id"] == run_id
    finally:
        shutil.rmtree(runs_home, ignore_errors=True)


SANDBOX_METRICS = """
from aifnb_widgets.sandboxes.artefacts import write_metrics
write_metrics({path!r}, {{"demographic_parity_gap": 0.125, "model": "logistic"}})
"""


def test_sandbox_metrics_written_in_a_session_log_a_run_and_not_twice_in_a_job(mlflow_hub, api, tokens, tmp_path):
    """A sandbox's metrics in an interactive session become a run named after the notebook, numbers as metrics and
    the rest as params; inside a Scale & Run job (whose runner logs the file) the same call logs nothing."""
    env = {**as_user_env(mlflow_hub, tokens, ALICE), "JPY_SESSION_NAME": "/home/x/finance_credit_scoring_fairness.ipynb"}
    code = SANDBOX_METRICS.format(path=str(tmp_path / "metrics.json"))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    logged = re.search(r"metrics logged to MLflow: (\S+)", done.stdout)
    assert logged, f"{done.stdout[-1000:]}\n{done.stderr[-2000:]}"
    alice = api[ALICE]
    run = alice.ok(alice.get("runs/get", run_id=logged.group(1).rsplit("/", 1)[1]))["run"]
    assert run["info"]["run_name"] == "finance_credit_scoring_fairness"
    assert metrics(run) == {"demographic_parity_gap": 0.125} and params(run) == {"model": "logistic"}
    in_job = subprocess.run(
        [sys.executable, "-c", SANDBOX_METRICS.format(path=str(tmp_path / "job.json"))],
        env={**env, mlops.JOB_RUN_VARIABLE: "0" * 32},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert in_job.returncode == 0 and "MLflow" not in in_job.stdout, in_job.stdout + in_job.stderr[-2000:]
    assert json.loads((tmp_path / "job.json").read_text())["demographic_parity_gap"] == 0.125
