"""Chromium through Playwright: a trainer publishes from the gallery, a learner uses the dashboard,
and a dashboard's script cannot act on the hub as the people who open it."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from tests.hub.dashboards.conftest import GALLERY, SECRET_SOURCE, gallery_login, slider_notebook
from tests.support.browser import chromium, demo_login

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "dashboards"


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium() as launched:
        yield launched


login = demo_login


def open_dashboard(page, hub, slug: str):
    page.goto(f"{hub.url}{GALLERY}d/{slug}/")
    page.wait_for_selector(".widget-slider .noUi-handle", timeout=60_000)
    return page


def submit(page) -> None:
    with page.expect_navigation():
        page.click("form#publish button[type=submit]")
    assert page.locator("li.card[data-slug=browser-slider]").count() == 1, page.content()[-2000:]


def nudge_slider(page, presses: int = 1) -> None:
    page.focus(".widget-slider .noUi-handle")
    for _ in range(presses):
        page.keyboard.press("ArrowRight")


def test_publish_view_interact_and_republish(browser, dash_hub, tmp_path):
    notebook = tmp_path / "slider.ipynb"
    notebook.write_bytes(slider_notebook("first"))

    trainer = login(browser, dash_hub, "trainer1")
    trainer.goto(f"{dash_hub.url}/hub/home")
    trainer.click("#dashboards-gallery")
    trainer.wait_for_selector("form#publish")
    trainer.set_input_files("form#publish input[name=notebook]", str(notebook))
    trainer.fill("form#publish input[name=title]", "Browser slider")
    trainer.fill("form#publish input[name=description]", "Move the slider")
    trainer.fill("form#publish input[name=groups]", "learners,trainers")
    trainer.select_option("form#publish select[name=service]", "Upskill")
    submit(trainer)
    card = trainer.wait_for_selector("li.card[data-slug=browser-slider]")
    assert "Move the slider" in card.inner_text() and "trainer1" in card.inner_text()
    trainer.screenshot(path=ARTIFACTS / "gallery-trainer.png", full_page=True)

    learner = login(browser, dash_hub, "learner1")
    learner.goto(f"{dash_hub.url}{GALLERY}")
    learner.click("li.card[data-slug=browser-slider] h2 a")
    learner.wait_for_selector(".widget-slider .noUi-handle", timeout=60_000)
    learner.wait_for_selector("text=first: 3")
    nudge_slider(learner, 2)
    learner.wait_for_selector("text=first: 5")
    assert SECRET_SOURCE not in learner.content() and "slider.observe" not in learner.content()
    learner.screenshot(path=ARTIFACTS / "dashboard-learner.png", full_page=True)

    # Republish while the learner's page is open: that page keeps working on the old version.
    notebook.write_bytes(slider_notebook("second"))
    trainer.goto(f"{dash_hub.url}{GALLERY}")
    trainer.set_input_files("form#publish input[name=notebook]", str(notebook))
    trainer.fill("form#publish input[name=title]", "Browser slider")
    trainer.fill("form#publish input[name=groups]", "learners,trainers")
    submit(trainer)
    nudge_slider(learner)
    learner.wait_for_selector("text=first: 6")

    fresh = learner.context.new_page()
    open_dashboard(fresh, dash_hub, "browser-slider")
    fresh.wait_for_selector("text=second: 3")
    nudge_slider(fresh)
    fresh.wait_for_selector("text=second: 4")
    fresh.screenshot(path=ARTIFACTS / "dashboard-republished.png", full_page=True)

    outsider = login(browser, dash_hub, "company1")
    response = outsider.goto(f"{dash_hub.url}{GALLERY}d/browser-slider/")
    assert response.status == 403
    assert "Not shared with you" in outsider.content()
    outsider.screenshot(path=ARTIFACTS / "dashboard-forbidden.png", full_page=True)
    outsider.goto(f"{dash_hub.url}{GALLERY}")
    assert outsider.locator("li.card[data-slug=browser-slider]").count() == 0
    for page in (trainer, learner, outsider):  # their kernels leave, so the next test starts under the caps
        page.context.close()


#: A trainer's output that tries to act on the hub as its viewer (issue 9): read the XSRF token,
#: mint an API token, read the viewer's model. It reports each step into the page.
ATTACK = """
<pre id="attack-report">running</pre>
<script>
(async () => {
  const report = {};
  const attempt = async (name, step) => {
    try { report[name] = await step(); } catch (e) { report[name] = "blocked: " + e.name; }
  };
  await attempt("cookie", async () => document.cookie || "empty");
  let xsrf = "";
  await attempt("home", async () => {
    const page = await (await fetch("/hub/home", {credentials: "include"})).text();
    const found = page.match(/xsrf_token:\\s*"([^"]+)"/) || page.match(/name="_xsrf" value="([^"]+)"/);
    xsrf = found ? found[1] : "";
    return xsrf ? "read xsrf" : "no xsrf";
  });
  await attempt("api_user", async () => (await (await fetch("/hub/api/user", {credentials: "include"})).text()).slice(0, 80));
  for (const name of ["admin1", "learner1"]) {
    await attempt("token_" + name, async () => {
      const response = await fetch("/hub/api/users/" + name + "/tokens", {
        method: "POST", credentials: "include",
        headers: {"Content-Type": "application/json", "X-XSRFToken": xsrf},
        body: JSON.stringify({note: "stolen-by-dashboard"}),
      });
      return "status " + response.status;
    });
  }
  document.getElementById("attack-report").textContent = "done " + JSON.stringify(report);
})();
</script>
"""


def attack_notebook() -> bytes:
    """The slider dashboard with the attacking HTML output after it."""
    nb = nbformat.reads(slider_notebook("attacked").decode(), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(f"from IPython.display import HTML\nHTML({ATTACK!r})"))
    return nbformat.writes(nb).encode()


def stolen_tokens(admin, user: str) -> list[dict]:
    tokens = admin.api.get(f"/users/{user}/tokens").json()["api_tokens"]
    return [t for t in tokens if t.get("note") == "stolen-by-dashboard"]


def test_a_dashboard_script_cannot_act_on_the_hub_as_its_viewer(browser, dash_hub):
    """An admin and a learner open a dashboard whose script tries to mint them tokens: none is made, widgets work."""
    with gallery_login(dash_hub, "trainer1") as trainer:
        response = trainer.client.post(
            f"{GALLERY}api/dashboards",
            json={"notebook": attack_notebook().decode(), "title": "Attack", "slug": "attack", "groups": ["learners"]},
            headers={"Authorization": trainer.api.headers["Authorization"]},
        )
        assert response.status_code == 201, response.text
    for viewer in ("admin1", "learner1"):
        page = open_dashboard(login(browser, dash_hub, viewer), dash_hub, "attack")
        page.wait_for_selector("#attack-report:has-text('done')", timeout=30_000)
        report = json.loads(page.inner_text("#attack-report").removeprefix("done "))
        assert report["cookie"].startswith("blocked") and report["home"].startswith("blocked"), report
        assert report["api_user"].startswith("blocked"), report
        assert all(report[f"token_{name}"].startswith("blocked") for name in ("admin1", "learner1")), report
        page.wait_for_selector("text=attacked: 3")
        nudge_slider(page, 2)
        page.wait_for_selector("text=attacked: 5")
        page.screenshot(path=ARTIFACTS / f"attack-{viewer}.png", full_page=True)
        page.context.close()
    with dash_hub.login("admin1") as admin:
        assert stolen_tokens(admin, "admin1") == [] and stolen_tokens(admin, "learner1") == []
