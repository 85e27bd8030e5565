"""The MLflow service through the real hub and proxy: hub identity, private experiments, group shares, sessions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import session_jobs
from tests.hub.mlflow.conftest import ADMIN, ALICE, BOB, CAROL, MLFLOW, Tracking, browser, run_in_kernel, user_token

pytestmark = pytest.mark.integration


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


def test_learner_logs_a_run_from_a_real_slurm_session(mlflow_hub, api):
    """In a Slurm session, plain `mlflow.log_metric` lands in the learner's own experiment, with no password anywhere."""
    with mlflow_hub.login(ALICE) as session:
        assert session.start({"profile": "cpu-course"}).status_code in (201, 202)
        try:
            session.wait_ready(timeout=120)
            token = session.api.headers["Authorization"].split()[1]
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
        finally:
            session.stop()
    assert session_jobs(ALICE) == []
    assert f"URI {mlflow_hub.url}{MLFLOW}" in result["stdout"]
    run_id, experiment_id = re.search(r"RUN (\w+) (\w+)", result["stdout"]).groups()
    alice = api[ALICE]
    assert alice.ok(alice.get("experiments/get", experiment_id=experiment_id))["experiment"]["name"] == ALICE
    run = alice.ok(alice.get("runs/get", run_id=run_id))["run"]
    assert run["data"]["metrics"][0]["value"] == 0.75 and run["info"]["user_id"] == ALICE
    assert api[BOB].get("runs/get", run_id=run_id).status_code == 403
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
