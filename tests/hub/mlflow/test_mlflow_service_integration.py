"""The MLflow service through the real hub and proxy: hub identity, private experiments, group shares, sessions."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.hub.mlflow.conftest import (
    ADMIN,
    ALICE,
    BOB,
    CAROL,
    MLFLOW,
    Tracking,
    browser,
    cpu_session,
    run_in_kernel,
    user_token,
    wait_no_session_job,
)

pytestmark = pytest.mark.integration
#: How MLflow's client reports the service's 403.
DENIED = r"403|PERMISSION_DENIED|Permission denied"


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def tokens(mlflow_hub) -> dict[str, str]:
    return {name: user_token(mlflow_hub, name) for name in (ALICE, BOB, CAROL, ADMIN)}


@pytest.fixture(scope="module")
def api(mlflow_hub, tokens) -> Iterator[dict[str, Tracking]]:
    """MLflow's REST API as each user (their hub token as the bearer)."""
    clients = {name: Tracking(mlflow_hub, token) for name, token in tokens.items()}
    yield clients
    for client in clients.values():
        client.client.close()


@pytest.fixture(scope="module")
def private(mlflow_hub, api) -> dict:
    """Alice's private experiment with one run, a metric and an artifact uploaded through the service."""
    alice = api[ALICE]
    experiment = alice.create_experiment("alice-private")
    run = alice.create_run(experiment)
    run_id = run["info"]["run_id"]
    alice.ok(alice.post("runs/log-metric", {"run_id": run_id, "key": "loss", "value": 0.5, "timestamp": 0}))
    artifact_path = run["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    upload = alice.client.put(f"/api/2.0/mlflow-artifacts/artifacts/{artifact_path}/notes.txt", content=b"alice's notes")
    assert upload.status_code == 200, upload.text[:300]
    return {"experiment": experiment, "run": run_id, "artifacts": artifact_path}


def test_owner_reads_own_experiment_run_and_artifact(mlflow_hub, api, private):
    """The creator reads her experiment, run, metric and artifact with her hub token."""
    alice = api[ALICE]
    assert alice.ok(alice.get("experiments/get", experiment_id=private["experiment"]))["experiment"]["name"] == "alice-private"
    metrics = alice.ok(alice.get("runs/get", run_id=private["run"]))["run"]["data"]["metrics"]
    assert [(m["key"], m["value"]) for m in metrics] == [("loss", 0.5)]
    artifact = alice.client.get(f"/api/2.0/mlflow-artifacts/artifacts/{private['artifacts']}/notes.txt")
    assert artifact.status_code == 200 and artifact.content == b"alice's notes"


def test_other_user_gets_403_on_private_experiment_rest_ui_and_artifacts(mlflow_hub, api, private):
    """Bob gets 403 from the REST API, the UI's ajax API and both artifact routes on Alice's experiment."""
    bob = api[BOB]
    assert bob.get("experiments/get", experiment_id=private["experiment"]).status_code == 403
    assert bob.get("runs/get", run_id=private["run"]).status_code == 403
    assert bob.post("runs/log-metric", {"run_id": private["run"], "key": "x", "value": 1, "timestamp": 0}).status_code == 403
    assert bob.client.get(f"/api/2.0/mlflow-artifacts/artifacts/{private['artifacts']}/notes.txt").status_code == 403
    found = bob.ok(bob.post("experiments/search", {"max_results": 100}))
    assert "alice-private" not in [e["name"] for e in found.get("experiments", [])]
    assert bob.ok(bob.post("runs/search", {"experiment_ids": [private["experiment"]]})).get("runs", []) == []
    history = bob.client.get(
        "/ajax-api/2.0/mlflow/metrics/get-history-bulk", params={"run_id": private["run"], "metric_key": "loss"}
    )
    assert history.status_code == 403
    query = '{ mlflowGetExperiment(input: {experimentId: "EXP"}) { experiment { name } } }'.replace("EXP", private["experiment"])
    assert bob.ok(bob.client.post("/graphql", json={"query": query}))["data"]["mlflowGetExperiment"] is None
    with browser(mlflow_hub, BOB) as ui:
        experiment = ui.get(f"{MLFLOW}/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": private["experiment"]})
        artifact = ui.get(f"{MLFLOW}/get-artifact", params={"path": "notes.txt", "run_uuid": private["run"]})
    assert experiment.status_code == 403
    assert artifact.status_code == 403 and b"alice" not in artifact.content


def test_anonymous_browser_is_sent_to_hub_login_and_api_gets_401(mlflow_hub):
    """No cookie: the UI redirects through hub OAuth to the hub's login page; the API answers 401 saying how to log in."""
    with httpx.Client(base_url=mlflow_hub.url, timeout=30) as anonymous:
        page = anonymous.get(f"{MLFLOW}/", follow_redirects=True)
        assert page.status_code == 200 and page.url.path == "/hub/login", page.url
        assert [r.headers["location"].split("?")[0] for r in page.history][:1] == ["/hub/api/oauth2/authorize"]
        api = anonymous.get(f"{MLFLOW}/api/2.0/mlflow/experiments/search", params={"max_results": 1})
        assert api.status_code == 401 and "MLFLOW_TRACKING_TOKEN" in api.text
        basic = anonymous.get(f"{MLFLOW}/api/2.0/mlflow/experiments/search", auth=("aifnb-bootstrap-admin", "guess"))
        assert basic.status_code == 401


def test_token_without_the_service_scope_is_refused(mlflow_hub, private):
    """A hub token narrowed to reading the user's name may not use MLflow (403 naming the scope)."""
    narrow = user_token(mlflow_hub, ALICE, scopes=[f"read:users:name!user={ALICE}"])
    with Tracking(mlflow_hub, narrow) as client:
        response = client.get("experiments/get", experiment_id=private["experiment"])
    assert response.status_code == 403 and "access:services" in response.text


def test_browser_login_opens_the_ui_and_reads_own_experiment(mlflow_hub, private):
    """After the hub login, Alice's browser gets the MLflow UI and reads her experiment through the ajax API."""
    with browser(mlflow_hub, ALICE) as ui:
        page = ui.get(f"{MLFLOW}/")
        response = ui.get(f"{MLFLOW}/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": private["experiment"]})
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert response.status_code == 200 and response.json()["experiment"]["name"] == "alice-private"


def test_job_tokens_work_here_alone_and_cannot_renew_themselves(mlflow_hub, api):
    """A batch job's token (issued by the service to a hub token) logs as its user, is refused by the hub, cannot ask for
    another, and a tampered one is refused."""
    issued = api[ALICE].client.post("/aifnb/api/job-token", json={"expires_in": 600})
    assert issued.status_code == 200, issued.text
    token = issued.json()["token"]
    with Tracking(mlflow_hub, token) as job:
        assert job.ok(job.post("experiments/search", {"max_results": 5})) is not None
        assert job.client.post("/aifnb/api/job-token", json={"expires_in": 600}).status_code == 403
    with Tracking(mlflow_hub, token[:-2] + ("AA" if not token.endswith("AA") else "BB")) as forged:
        assert forged.post("experiments/search", {"max_results": 5}).status_code == 401
    assert httpx.get(f"{mlflow_hub.url}/hub/api/user", headers={"Authorization": f"token {token}"}).status_code == 403
    assert api[ALICE].client.post("/aifnb/api/job-token", json={"expires_in": "forever"}).status_code == 400


def test_mlflow_assistant_is_not_served(mlflow_hub, api):
    """MLflow's assistant (server-side coding-agent tools) is gone: every request through the proxy looks local to it."""
    for path in ("config", "providers"):
        response = api[ALICE].client.get(f"/ajax-api/3.0/mlflow/assistant/{path}")
        assert response.status_code == 404, response.text[:200]


def test_admin_reads_every_experiment(mlflow_hub, api, private):
    """A member of the admins group reads Alice's private experiment."""
    admin = api[ADMIN]
    assert admin.ok(admin.get("experiments/get", experiment_id=private["experiment"]))["experiment"]["name"] == "alice-private"


def test_sharing_with_a_group_lets_its_members_read_and_no_one_else(mlflow_hub, api):
    """Shared READ with companies: Carol reads but cannot write, Bob still gets 403; unshared: Carol 403 again."""
    alice, bob, carol = api[ALICE], api[BOB], api[CAROL]
    experiment = alice.create_experiment("alice-shared")
    run = alice.create_run(experiment)["info"]["run_id"]
    assert carol.get("experiments/get", experiment_id=experiment).status_code == 403

    assert bob.share(experiment, "learners", "READ").status_code == 403, "only the owner shares"
    refused = alice.share(experiment, "trainers", "READ")
    assert refused.status_code == 403 and "your own hub groups" in refused.text
    assert alice.share(experiment, "companies", "READ").status_code == 200

    assert carol.ok(carol.get("experiments/get", experiment_id=experiment))["experiment"]["name"] == "alice-shared"
    assert carol.get("runs/get", run_id=run).status_code == 200
    assert carol.post("runs/log-metric", {"run_id": run, "key": "x", "value": 1, "timestamp": 0}).status_code == 403
    assert bob.get("experiments/get", experiment_id=experiment).status_code == 403
    shares = alice.client.get("/aifnb/api/shares", params={"resource": "experiment", "id": experiment})
    assert shares.json()["groups"] == {"companies": "READ"}

    assert alice.share(experiment, "companies", "EDIT").status_code == 200
    assert carol.post("runs/log-metric", {"run_id": run, "key": "x", "value": 1, "timestamp": 0}).status_code == 200
    assert alice.share(experiment, "companies", "NO_PERMISSIONS").status_code == 200
    assert carol.get("experiments/get", experiment_id=experiment).status_code == 403


BATCH_JOB = '''
import os, shutil, subprocess, sys, tempfile
from aifnb_widgets import mlops
credential = mlops.job_credential(600)
assert credential["MLFLOW_TRACKING_TOKEN"] != os.environ["JUPYTERHUB_API_TOKEN"]
folder = tempfile.mkdtemp(dir=os.path.expanduser("~"), prefix="mlflow-job-")
fd = os.open(folder, os.O_RDONLY)
mlops.write_credential_at(fd, credential)
os.close(fd)
print("MODE", oct(os.stat(os.path.join(folder, mlops.CREDENTIAL_FILE)).st_mode & 0o777))
job = f"""
import os, mlflow
from aifnb_widgets import mlops
assert mlops.load_job_credential({folder!r})
print("SESSION_TOKEN_IN_JOB", "JUPYTERHUB_API_TOKEN" in os.environ)
mlflow.set_experiment("aift-learner/batch")
with mlflow.start_run(run_name="from-batch-job") as run:
    mlflow.log_metric("rows", 1000.0)
print("BATCHRUN", run.info.run_id)
"""
with open(os.path.join(folder, "job.py"), "w") as f:
    f.write(job)
argv = ["sbatch", "--wait", "--export=NONE", "--partition=cpu", "--time=5", "--mem=1G",
        f"--output={folder}/job.log", f"--wrap={sys.executable} {folder}/job.py"]
done = subprocess.run(argv, capture_output=True, text=True, timeout=150)
print("SBATCH", done.returncode, done.stderr.strip())
print(open(os.path.join(folder, "job.log")).read())
shutil.rmtree(folder)
'''


def test_learner_logs_runs_from_a_real_slurm_session_and_its_batch_job(mlflow_hub, api):
    """In a Slurm session plain `mlflow.log_metric` lands in the learner's own experiment; a batch job it submits
    (clean environment) logs too, with a token limited to MLflow; no password or database URI on any command line."""
    with cpu_session(mlflow_hub, ALICE) as (_, token):
        code = (
            "import os, mlflow\n"
            "assert os.environ['MLFLOW_TRACKING_TOKEN'] == os.environ['JUPYTERHUB_API_TOKEN']\n"
            "print('URI', os.environ['MLFLOW_TRACKING_URI'])\n"
            "with mlflow.start_run(run_name='from-session') as run:\n"
            "    mlflow.log_param('where', 'slurm-session')\n"
            "    mlflow.log_metric('accuracy', 0.75)\n"
            "print('RUN', run.info.run_id, run.info.experiment_id)\n"
        )
        result = run_in_kernel(mlflow_hub, ALICE, token, code)
        assert result["error"] is None, result
        batch = run_in_kernel(mlflow_hub, ALICE, token, BATCH_JOB)
        assert batch["error"] is None, batch
    assert wait_no_session_job(ALICE) == []
    assert f"URI {mlflow_hub.url}{MLFLOW}" in result["stdout"]
    run_id, experiment_id = re.search(r"RUN (\w+) (\w+)", result["stdout"]).groups()
    alice = api[ALICE]
    assert alice.ok(alice.get("experiments/get", experiment_id=experiment_id))["experiment"]["name"] == ALICE
    run = alice.ok(alice.get("runs/get", run_id=run_id))["run"]
    assert run["data"]["metrics"][0]["value"] == 0.75 and run["info"]["user_id"] == ALICE
    assert api[BOB].get("runs/get", run_id=run_id).status_code == 403

    assert "MODE 0o600" in batch["stdout"] and "SBATCH 0" in batch["stdout"], batch
    assert "SESSION_TOKEN_IN_JOB False" in batch["stdout"], batch
    batch_run = re.search(r"BATCHRUN (\w+)", batch["stdout"]).group(1)
    logged = alice.ok(alice.get("runs/get", run_id=batch_run))["run"]
    assert logged["info"]["user_id"] == ALICE and logged["data"]["metrics"][0]["value"] == 1000.0
    assert api[BOB].get("runs/get", run_id=batch_run).status_code == 403
    secrets_on_argv = [
        p for p in _cmdlines() if "mlflow" in p and ("PASSWORD" in p or "postgresql://" in p or "token" in p.lower())
    ]
    assert secrets_on_argv == []


def _cmdlines() -> list[str]:
    lines = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                lines.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                pass
    return lines


def test_course_notebook_registers_models_that_a_shared_group_loads_by_uri(mlflow_hub, api, tokens, tmp_path, monkeypatch):
    """Course 7 runs against the service as Alice; Carol loads her registered model by URI once it is shared, Bob never."""
    import mlflow
    import papermill

    from aifnb_hub.catalogue import load_catalogue

    catalogue = load_catalogue()
    entry = next(e for e in catalogue.notebooks if e.path == "courses/07-mlops-on-the-ai-factory.ipynb")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"{mlflow_hub.url}{MLFLOW}")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens[ALICE])
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    metrics_path = tmp_path / "metrics.json"
    params = {"EXPERIMENT": f"{ALICE}/course-07", "MODEL_PREFIX": ALICE, "METRICS_PATH": str(metrics_path)}
    papermill.execute_notebook(
        str(catalogue.file(entry)), str(tmp_path / "executed.ipynb"), parameters=params, kernel_name="python3",
        cwd=str(tmp_path), progress_bar=False, execution_timeout=240,
    )  # fmt: skip
    metrics = json.loads(metrics_path.read_text())
    assert metrics["n_runs"] == 3 and metrics["reloaded_matches"] and metrics["reproduced_delta"] == 0.0
    uri = f"models:/{ALICE}-two-moons/{metrics['registered_version']}"

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens[CAROL])
    with pytest.raises(mlflow.exceptions.MlflowException, match=DENIED):
        mlflow.pytorch.load_model(uri, dst_path=str(_mkdir(tmp_path / "denied")))
    alice = api[ALICE]
    shared = alice.client.post(
        "/aifnb/api/share",
        json={"resource": "registered_model", "id": f"{ALICE}-two-moons", "group": "companies", "permission": "READ"},
    )
    assert shared.status_code == 200, shared.text
    experiment = alice.ok(alice.get("experiments/get-by-name", experiment_name=f"{ALICE}/course-07"))["experiment"][
        "experiment_id"
    ]
    assert alice.share(experiment, "companies", "READ").status_code == 200
    model = mlflow.pytorch.load_model(uri, dst_path=str(_mkdir(tmp_path / "carol")))
    assert model is not None

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens[BOB])
    with pytest.raises(mlflow.exceptions.MlflowException, match=DENIED):
        mlflow.pytorch.load_model(uri, dst_path=str(_mkdir(tmp_path / "bob")))


def test_sweep_and_bias_helpers_log_parent_child_and_assessment_runs(mlflow_hub, api, tokens, tmp_path, monkeypatch):
    """log_sweep makes one parent with a child per parameter set; log_bias_run logs scores, coverage, digest and records."""
    from aifnb_widgets import mlops

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"{mlflow_hub.url}{MLFLOW}")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens[ALICE])
    sets = [{"lr": 0.1}, {"lr": 0.01}, {"lr": 0.001}]
    parent = mlops.log_sweep("sweep-3", sets, [{"accuracy": 0.9}, {"accuracy": 0.8}, None], experiment=f"{ALICE}/sweeps")
    alice = api[ALICE]
    children = alice.ok(
        alice.post(
            "runs/search",
            {"experiment_ids": [parent.info.experiment_id], "filter": f"tags.mlflow.parentRunId = '{parent.info.run_id}'"},
        )
    )["runs"]
    by_lr = {c["data"]["params"][0]["value"]: c for c in children}
    assert sorted(by_lr) == ["0.001", "0.01", "0.1"]
    assert by_lr["0.1"]["data"]["metrics"][0]["value"] == 0.9
    assert {t["key"]: t["value"] for t in by_lr["0.001"]["data"]["tags"]}["aifnb.status"] == "failed"

    records = tmp_path / "records.jsonl"
    records.write_text('{"prompt": "p", "answer": "a"}\n')
    scores = {"gender": {"score": 0.8, "low": 0.7, "high": 0.9}, "age": {"score": 0.6, "low": 0.5, "high": 0.7}}
    run = mlops.log_bias_run(
        model="tiny-lm", spec={"languages": ["en"], "n": 10}, scores=scores, coverage=0.95, library_digest="abc123",
        records=records, experiment=f"{ALICE}/bias",
    )  # fmt: skip
    logged = alice.ok(alice.get("runs/get", run_id=run.info.run_id))["run"]
    metrics = {m["key"]: m["value"] for m in logged["data"]["metrics"]}
    assert metrics == {
        "coverage": 0.95,
        "gender.score": 0.8,
        "gender.low": 0.7,
        "gender.high": 0.9,
        "age.score": 0.6,
        "age.low": 0.5,
        "age.high": 0.7,
    }
    assert {t["key"]: t["value"] for t in logged["data"]["tags"]}["aifnb.library_digest"] == "abc123"
    listed = alice.ok(alice.get("artifacts/list", run_id=run.info.run_id))
    assert [f["path"] for f in listed["files"]] == ["records.jsonl"]
    assert api[BOB].get("runs/get", run_id=run.info.run_id).status_code == 403


def test_sweep_tasks_log_child_runs_of_the_parent_started_at_submission(mlflow_hub, api, tokens, tmp_path, monkeypatch):
    """start_sweep's parent gets one child per task from job_run (params, executed notebook, FINISHED or FAILED)."""
    from aifnb_widgets import mlops

    for name in (*mlops.JOB_VARIABLES, mlops.JOB_RUN_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"{mlflow_hub.url}{MLFLOW}")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens[ALICE])
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", f"{ALICE}/scale-and-run")
    sets = [{"lr": 0.1}, {"lr": 0.01}, {"lr": 0.001}]
    parent = mlops.start_sweep("sweep of train.ipynb", sets)
    credential = {k: os.environ[k] for k in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "MLFLOW_EXPERIMENT_NAME")}
    credential[mlops.PARENT_RUN_VARIABLE] = parent
    for index, values in enumerate(sets):
        folder = _mkdir(tmp_path / f"task-{index}")
        fd = os.open(folder, os.O_RDONLY)
        mlops.write_credential_at(fd, credential)
        os.close(fd)
        assert oct((folder / mlops.CREDENTIAL_FILE).stat().st_mode & 0o777) == "0o600"
        (folder / mlops.EXECUTED_NOTEBOOK).write_text('{"cells": []}')
        with contextlib.suppress(RuntimeError), mlops.job_run(folder, values, name=f"task {index}") as run_id:
            assert run_id and os.environ[mlops.JOB_RUN_VARIABLE] == run_id
            if index == 2:
                raise RuntimeError("the notebook failed")
        assert mlops.JOB_RUN_VARIABLE not in os.environ
    alice = api[ALICE]
    experiment = alice.ok(alice.get("runs/get", run_id=parent))["run"]["info"]["experiment_id"]
    children = alice.ok(
        alice.post("runs/search", {"experiment_ids": [experiment], "filter": f"tags.mlflow.parentRunId = '{parent}'"})
    )
    found = {c["info"]["run_name"]: c for c in children["runs"]}
    assert {name: c["info"]["status"] for name, c in found.items()} == {
        "task 0": "FINISHED",
        "task 1": "FINISHED",
        "task 2": "FAILED",
    }
    assert found["task 1"]["data"]["params"] == [{"key": "lr", "value": "0.01"}]
    first = found["task 0"]["info"]["run_id"]
    listed = alice.ok(alice.get("artifacts/list", run_id=first))
    assert [f["path"] for f in listed["files"]] == [mlops.EXECUTED_NOTEBOOK]
    assert mlops.job_run_link(tmp_path / "task-0") == f"{mlflow_hub.url}{MLFLOW}/#/experiments/{experiment}/runs/{first}"


def test_bias_assessment_of_the_engine_is_logged_with_its_plan_digest(mlflow_hub, api, tokens, monkeypatch):
    """log_assessment turns an Assessment of the bias engine into one run: scores with intervals, coverage, the plan's digest."""
    from aifnb_widgets import mlops
    from aifnb_widgets.bias.plan import build_plan
    from aifnb_widgets.bias.results import assess
    from aifnb_widgets.bias.scenario import default_scenario

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"{mlflow_hub.url}{MLFLOW}")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens[ALICE])
    plan = build_plan(default_scenario(languages=["en"], concerns=["ageism", "lgtbiqphobia"], n_templates=100))
    assessment = assess(plan, [], ["aifnb-2"], n_boot=20)
    row = assessment.summary[
        (assessment.summary["model"] == "baseline: always No") & (assessment.summary["score"] == assessment.summary["score"])
    ]
    expected = row.iloc[0]
    run = mlops.log_assessment(assessment, model="baseline: always No", experiment=f"{ALICE}/bias")
    logged = api[ALICE].ok(api[ALICE].get("runs/get", run_id=run.info.run_id))["run"]
    metrics = {m["key"]: m["value"] for m in logged["data"]["metrics"]}
    key = mlops.metric_key(f"{expected.spec}.{expected.category}")
    assert metrics[f"{key}.score"] == pytest.approx(expected.score) and metrics[f"{key}.low"] <= metrics[f"{key}.score"]
    assert {t["key"]: t["value"] for t in logged["data"]["tags"]}["aifnb.library_digest"] == plan.digest
    assert 0.0 <= metrics["coverage"] <= 1.0
    assert any(".LGBTIQplus." in key for key in metrics), "a category name MLflow refuses (LGBTIQ+) is made acceptable"
    with pytest.raises(ValueError, match="no model 'gpt-x'"):
        mlops.log_assessment(assessment, model="gpt-x")
