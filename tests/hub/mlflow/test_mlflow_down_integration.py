"""MLflow service down (its database unreachable): the hub and sessions start, and logging says which service failed."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.hub.mlflow.conftest import ALICE, MLFLOW, run_in_kernel, start_mlflow_hub, wait_no_session_job
from tests.support.hub import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def down_hub(slurm, unix_users, hub_workdir):
    """A hub whose MLflow backend store is a PostgreSQL address where nothing listens."""
    unreachable = f"postgresql+psycopg2://mlflow:unused@127.0.0.1:{free_port()}/mlflow"
    hub = start_mlflow_hub(hub_workdir, {"backend_store_uri": unreachable})
    yield hub
    hub.stop()


def wait_down_answer(hub, timeout: float = 90) -> httpx.Response:
    """The launcher's 503 once the server has failed (before that the proxy has no answer from the port)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(f"{hub.url}{MLFLOW}/api/2.0/mlflow/experiments/search", timeout=10)
        if "MLflow service" in response.text:
            return response
        time.sleep(1)
    raise AssertionError(f"no 503 from the MLflow launcher in {timeout}s:\n{hub.log()[-3000:]}")


def test_service_down_answers_503_naming_it_and_sessions_still_start(down_hub):
    """The launcher answers 503 naming the service; a learner's session starts; mlflow and aifnb's check fail naming the service."""
    response = wait_down_answer(down_hub)
    assert response.status_code == 503 and f"{MLFLOW}/" in response.text and "Traceback" not in response.text
    assert "database cannot be reached" in response.text
    with down_hub.login(ALICE) as session:
        assert session.start({"profile": "cpu-course"}).status_code in (201, 202)
        try:
            session.wait_ready(timeout=120)
            token = session.api.headers["Authorization"].split()[1]
            code = (
                "import mlflow\n"
                "from aifnb_widgets import mlops\n"
                "try:\n"
                "    mlops.check_service()\n"
                "except mlops.MlflowServiceError as e:\n"
                "    print('CHECK', e)\n"
                "try:\n"
                "    mlflow.log_metric('accuracy', 0.5)\n"
                "except Exception as e:\n"
                "    print('MLFLOW', type(e).__name__, str(e)[:400])\n"
            )
            result = run_in_kernel(down_hub, ALICE, token, code)
        finally:
            session.stop()
    assert wait_no_session_job(ALICE) == []
    assert result["error"] is None, result
    check = next(line for line in result["stdout"].splitlines() if line.startswith("CHECK"))
    assert "the hub's MLflow service" in check and "HTTP 503" in check and "is down" in check, check
    plain = next(line for line in result["stdout"].splitlines() if line.startswith("MLFLOW"))
    assert "MlflowException" in plain and f"{MLFLOW}/api/2.0/mlflow" in plain, plain
