"""A real hub with the MLflow service; users by role, tokens and browsers; code run in a session's kernel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Self

import httpx
import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from tests.conftest import session_jobs
from tests.support.hub import Hub, Session

MLFLOW = "/services/mlflow"
#: alice (a real Unix user: she also runs a session) is a learner and in companies; bob is a
#: learner only; carol is in companies only; the admin is in admins.
ALICE, BOB, CAROL, ADMIN = "aift-learner", "ml-bob", "aift-company", "aift-admin"
GROUPS = {
    "learners": {"users": [ALICE, BOB]},
    "companies": {"users": [CAROL, ALICE]},
    "trainers": {"users": ["aift-trainer"]},
    "admins": {"users": [ADMIN]},
}


def start_mlflow_hub(workdir, mlflow: dict | None = None) -> Hub:
    extra = {"mlflow": {"enabled": True, "workers": 2, **(mlflow or {})}, "groups": GROUPS}
    return Hub(workdir, {}, extra=extra).start(timeout=180)


@pytest.fixture(scope="module")
def mlflow_hub(slurm, unix_users, hub_workdir):
    """One hub with MLflow on (embedded SQLite store) for the module."""
    hub = start_mlflow_hub(hub_workdir)
    wait_mlflow(hub)
    yield hub
    hub.stop()


def wait_mlflow(hub: Hub, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{hub.url}{MLFLOW}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"MLflow service not healthy in {timeout}s\n{hub.log()[-3000:]}")


class Tracking:
    """MLflow's REST API through the proxy, as one hub token (what MLFLOW_TRACKING_TOKEN sends)."""

    def __init__(self, hub: Hub, token: str):
        self.client = httpx.Client(base_url=f"{hub.url}{MLFLOW}", headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def get(self, path: str, **params) -> httpx.Response:
        return self.client.get(f"/api/2.0/mlflow/{path}", params=params)

    def post(self, path: str, body: dict) -> httpx.Response:
        return self.client.post(f"/api/2.0/mlflow/{path}", json=body)

    def ok(self, response: httpx.Response) -> dict:
        assert response.status_code == 200, (
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text[:300]}"
        )
        return response.json()

    def create_experiment(self, name: str) -> str:
        return self.ok(self.post("experiments/create", {"name": name}))["experiment_id"]

    def create_run(self, experiment_id: str) -> dict:
        return self.ok(self.post("runs/create", {"experiment_id": experiment_id, "start_time": int(time.time() * 1000)}))["run"]

    def share(self, experiment_id: str, group: str, permission: str) -> httpx.Response:
        return self.client.post(
            "/aifnb/api/share", json={"resource": "experiment", "id": experiment_id, "group": group, "permission": permission}
        )


def user_token(hub: Hub, name: str, **body) -> str:
    """A new hub API token of ``name`` (all the user's permissions unless ``scopes`` narrows them)."""
    with hub.login(name) as session:
        response = session.client.post(
            f"/hub/api/users/{name}/tokens",
            json={"note": "mlflow tests", "expires_in": 3600, **body},
            headers={"X-XSRFToken": session.client.cookies.get("_xsrf", "")},
        )
        response.raise_for_status()
        return response.json()["token"]


@contextlib.contextmanager
def browser(hub: Hub, name: str) -> Iterator[httpx.Client]:
    """A browser logged in to the hub that has been through the MLflow service's OAuth."""
    with hub.login(name) as session:
        page = session.client.get(f"{MLFLOW}/", follow_redirects=True)
        assert page.status_code == 200 and str(page.url).endswith(f"{MLFLOW}/"), (
            f"{page.status_code} {page.url} {page.text[:300]}"
        )
        yield session.client


@contextlib.contextmanager
def cpu_session(hub: Hub, name: str) -> Iterator[tuple[Session, str]]:
    """``name``'s cpu-course session on Slurm, ready, with its login token; stopped on the way out."""
    with hub.login(name) as session:
        started = session.start({"profile": "cpu-course"})
        assert started.status_code in (201, 202), f"{started.status_code} {started.text[:300]}"
        try:
            session.wait_ready(timeout=120)
            yield session, session.api.headers["Authorization"].split()[1]
        finally:
            session.stop()


def run_in_kernel(hub: Hub, user: str, token: str, code: str, timeout: float = 180) -> dict:
    """Run ``code`` in a new kernel of ``user``'s running session; its stdout and error, if any."""
    return asyncio.run(_run_in_kernel(hub, user, token, code, timeout))


async def _run_in_kernel(hub: Hub, user: str, token: str, code: str, limit: float) -> dict:
    headers = {"Authorization": f"token {token}"}
    base = f"{hub.url}/user/{user}/api/kernels"
    async with httpx.AsyncClient(headers=headers, timeout=60) as http:
        kernel = (await http.post(base, json={"name": "python3"})).raise_for_status().json()["id"]
        try:
            ws_url = base.replace("http://", "ws://") + f"/{kernel}/channels"
            ws = await websocket_connect(HTTPRequest(ws_url, headers=headers))
            msg_id = uuid.uuid4().hex
            ws.write_message(
                json.dumps(
                    {
                        "header": {
                            "msg_id": msg_id,
                            "username": user,
                            "session": uuid.uuid4().hex,
                            "msg_type": "execute_request",
                            "version": "5.3",
                        },
                        "parent_header": {},
                        "metadata": {},
                        "content": {
                            "code": code,
                            "silent": False,
                            "store_history": False,
                            "user_expressions": {},
                            "allow_stdin": False,
                        },
                        "channel": "shell",
                        "buffers": [],
                    }
                )
            )
            result = {"stdout": "", "error": None}
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline:
                raw = await asyncio.wait_for(ws.read_message(), max(1.0, deadline - time.monotonic()))
                if raw is None:
                    raise AssertionError("kernel websocket closed")
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    result["stdout"] += content["text"]
                elif kind == "error":
                    result["error"] = f"{content['ename']}: {content['evalue']}"
                elif kind == "status" and content["execution_state"] == "idle":
                    ws.close()
                    return result
            raise AssertionError(f"code did not finish in {limit}s: {result}")
        finally:
            await http.delete(f"{base}/{kernel}")


def wait_no_session_job(user: str, timeout: float = 20) -> list[str]:
    """The user's session jobs once Slurm has let the stopped one go (at most ``timeout`` s on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while (jobs := session_jobs(user)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return jobs
