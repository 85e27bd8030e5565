"""Chromium through Playwright: the MLflow UI behind the hub's login, private experiments per user."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hub.mlflow.conftest import ALICE, BOB, MLFLOW, Tracking, user_token
from tests.support.browser import chromium as launch_chromium
from tests.support.browser import demo_login

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "mlflow"


@pytest.fixture(scope="module")
def chromium():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with launch_chromium() as browser:
        yield browser


login = demo_login


def test_ui_shows_own_experiment_hides_it_from_others_and_sends_anonymous_to_login(mlflow_hub, chromium):
    """Alice's browser renders her experiment in the MLflow UI; Bob's finds none of its runs, 403 on it, no trace of its name;
    no login: the hub's login page."""
    with Tracking(mlflow_hub, user_token(mlflow_hub, ALICE)) as alice:
        experiment = alice.create_experiment("alice-in-the-browser")
        alice.create_run(experiment)

    page = login(chromium, mlflow_hub, ALICE)
    page.goto(f"{mlflow_hub.url}{MLFLOW}/#/experiments/{experiment}")
    page.get_by_text("alice-in-the-browser").first.wait_for(timeout=60_000)
    page.get_by_text(ALICE, exact=True).first.wait_for(timeout=30_000)  # the UI names the hub user (loaded after the page)
    page.screenshot(path=str(ARTIFACTS / "alice-experiment.png"))
    page.context.close()

    page = login(chromium, mlflow_hub, BOB)
    with page.expect_response(lambda r: "mlflow/runs/search" in r.url, timeout=60_000) as answer:
        page.goto(f"{mlflow_hub.url}{MLFLOW}/#/experiments/{experiment}")
    assert answer.value.status == 200 and answer.value.json().get("runs", []) == [], "the UI's search gets none of her runs"
    page.wait_for_timeout(2000)
    assert "alice-in-the-browser" not in page.content()
    direct = page.request.get(f"{mlflow_hub.url}{MLFLOW}/ajax-api/2.0/mlflow/experiments/get?experiment_id={experiment}")
    assert direct.status == 403
    page.screenshot(path=str(ARTIFACTS / "bob-forbidden.png"))
    page.context.close()

    context = chromium.new_context()
    anonymous = context.new_page()
    anonymous.goto(f"{mlflow_hub.url}{MLFLOW}/")
    anonymous.wait_for_url("**/hub/login**")
    assert anonymous.locator("#username_input").count() == 1
    context.close()
