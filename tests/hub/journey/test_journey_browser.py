"""Acceptance in Debian's chromium: the learner's, the company's and the trainer's journey on the real
hub, proxy and Slurm. Screenshots go to artifacts/journey/ (ignored by git)."""

from __future__ import annotations

import pwd
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from aifnb_widgets.teaching.spec import load_course
from tests.conftest import session_jobs
from tests.hub.journey.conftest import RESERVATION
from tests.support.browser import chromium as launch_chromium
from tests.support.browser import demo_login

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "journey"
COURSE1 = "courses/01-working-on-the-ai-factory.ipynb"
MATURITY = "sandboxes/ai_maturity_assessment.ipynb"
#: Seconds a session may take from the click to JupyterLab (Slurm job, content sync, server start).
START = 180_000


@pytest.fixture(scope="module", autouse=True)
def new_users(journey_hub, unix_users):
    """The learner and the company start as new users: no copy of the courses from earlier runs (a
    file changed then would be kept as their edit, hiding today's version)."""
    for group in ("learners", "companies"):
        shutil.rmtree(Path(pwd.getpwnam(unix_users[group]).pw_dir) / "ai-factory", ignore_errors=True)


@pytest.fixture(scope="module")
def chromium():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with launch_chromium() as browser:
        yield browser


@pytest.fixture(autouse=True)
def sessions_stopped(journey_hub, unix_users):
    """Whatever a test started is stopped after it, passed or failed."""
    yield
    for user in unix_users.values():
        with journey_hub.login(user) as session:
            if session.server():
                session.stop()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def tab_to(page, text: str, limit: int = 80) -> None:
    """Press Tab until the focused element's text is ``text``, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.textContent.trim()") == text:
            return
    raise AssertionError(f"{text!r} cannot be reached with the keyboard")


def find_cell(page, marker: str, timeout_s: float = 120):
    """The code cell whose source holds ``marker``, scrolled into view (JupyterLab renders only the cells in view)."""
    cell = page.locator(".jp-NotebookPanel .jp-CodeCell", has_text=marker).first
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=timeout_s * 1000)
    box = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -100_000)
    for _ in range(200):
        if cell.count() and cell.is_visible():
            cell.scroll_into_view_if_needed()
            return cell
        page.mouse.wheel(0, 300)
        page.wait_for_timeout(100)
    shot(page, "failed-to-find-cell")
    raise AssertionError(f"no cell holds {marker!r}")


def run_cell(page, marker: str, code: str | None = None):
    """Run the notebook cell whose source holds ``marker`` (its source replaced by ``code`` first); its output area."""
    cell = find_cell(page, marker)
    editor = cell.locator(".cm-content")
    editor.click()
    if code is not None:
        page.keyboard.press("Control+A")
        page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")
    return cell.locator(".jp-OutputArea")


def scontrol_job(job_id: str) -> dict[str, str]:
    out = subprocess.run(["scontrol", "show", "job", job_id], check=True, capture_output=True, text=True).stdout
    return dict(re.findall(r"(\w[\w:/]*)=(\S*)", out))


def test_learner_lands_on_the_home_opens_course_1_by_keyboard_and_sees_the_progress(journey_hub, unix_users, chromium):
    """Login lands on the services home; the keyboard picks Upskill & Train -> Course 1; the session starts and
    JupyterLab opens the notebook; a wrong answer gets a hint and no answer, the right one is recorded; the home
    shows it after a reload. A forged next= never leaves the site."""
    learner = unix_users["learners"]
    page = demo_login(chromium, journey_hub, learner)
    page.wait_for_url("**/hub/home")
    assert page.locator("img:not([alt])").count() == 0, "every image has alt text"
    shot(page, "1-learner-home")

    tab_to(page, "Upskill & Train")
    page.keyboard.press("Enter")
    page.wait_for_url("**/hub/home#service-upskill")
    tab_to(page, "Course 1: Working on the AI Factory")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/user/{learner}/lab/tree/ai-factory/{COURSE1}", timeout=START)
    find_cell(page, 'course.check("time-limit"')
    shot(page, "2-course-1-in-jupyterlab")

    run_cell(page, "MATMUL_SIZES = [")
    setup = run_cell(page, 'course = Course("01-working-on-the-ai-factory"')
    setup.get_by_text("Python 3.").wait_for(timeout=120_000)
    wrong = run_cell(page, 'course.check("time-limit"', 'answer_2 = 45\ncourse.check("time-limit", answer_2)')
    wrong.get_by_text("HH:MM:SS").wait_for(timeout=60_000)
    shot(page, "3-wrong-answer-hint")
    said = wrong.inner_text()
    assert "30" not in said and "30 min" not in said, f"the wrong try revealed the answer: {said!r}"
    right = run_cell(page, 'course.check("time-limit"', 'answer_2 = 30\ncourse.check("time-limit", answer_2)')
    right.get_by_text("30 min").wait_for(timeout=60_000)
    shot(page, "4-right-answer")

    with journey_hub.login(learner) as session:
        course = session.api.get("/aifnb/progress").json()["courses"]["01-working-on-the-ai-factory"]
        assert (course["checks_passed"], course["checks_tried"]) == (1, 1), course
        for forged in ("https://evil.example/x", "//evil.example/x", "/\\evil.example/x", "https:evil.example"):
            response = session.client.get(f"/hub/spawn/{learner}?next={quote(forged, safe='')}")
            location = response.headers.get("location", "")
            assert response.status_code == 302 and not urlsplit(location).netloc, (forged, location)
            assert location.startswith("/") and not location.startswith(("//", "/\\")), (forged, location)

        page.goto(f"{journey_hub.url}/hub/home")
        page.reload()
        badge = page.locator(f'li[data-path="{COURSE1}"] .aifnb-progress')
        assert badge.inner_text().strip() == f"1 of {len(load_course('01-working-on-the-ai-factory').exercises)} exercises right"
        shot(page, "5-learner-home-with-progress")
        page.context.close()


def test_workshop_session_runs_in_its_reservation_and_the_trainer_sees_who_started(journey_hub, unix_users, chromium):
    """The open workshop's one-click start submits its job with --reservation (scontrol shows it); the trainer's
    view lists the learner as started, and the learner's progress."""
    learner, trainer = unix_users["learners"], unix_users["trainers"]
    node = subprocess.run(["sinfo", "-h", "-p", "cpu", "-o", "%N"], check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run(["scontrol", "delete", f"ReservationName={RESERVATION}"], capture_output=True)
    subprocess.run(
        ["scontrol", "create", "reservation", f"ReservationName={RESERVATION}", "StartTime=now", "Duration=60",
         f"Users={learner}", f"Nodes={node}", "CoreCnt=4"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    try:
        page = demo_login(chromium, journey_hub, learner)
        page.wait_for_url("**/hub/home")
        start = page.locator('[data-workshop="open-now"] a.aifnb-workshop-start')
        shot(page, "6-learner-home-workshop")
        start.click()
        page.wait_for_url(f"**/user/{learner}/lab/tree/ai-factory**", timeout=START)
        (job,) = session_jobs(learner)
        assert scontrol_job(job)["Reservation"] == RESERVATION
        page.context.close()

        with journey_hub.login(learner) as session:
            report = {"course": "01-working-on-the-ai-factory", "item": "in-workshop", "kind": "check", "passed": True}
            assert session.api.post("/aifnb/progress", json=report).status_code == 201

        page = demo_login(chromium, journey_hub, trainer)
        page.wait_for_url("**/hub/home")
        page.get_by_role("link", name="Progress of my groups").click()
        page.wait_for_url("**/hub/aifnb/progress")
        assert page.locator('[data-workshop="open-now"] .started').inner_text() == learner
        row = page.locator(f'#aifnb-progress-table tr[data-user="{learner}"] td[data-course="01-working-on-the-ai-factory"]')
        total = len(load_course("01-working-on-the-ai-factory").exercises)
        assert re.fullmatch(rf"[12]/{total} exercises", row.inner_text().strip()), row.inner_text()
        shot(page, "7-trainer-progress")
        other = page.goto(f"{journey_hub.url}/hub/aifnb/progress?group=companies")
        assert other.status == 403
        shot(page, "8-trainer-other-group-403")
        page.context.close()

        page = demo_login(chromium, journey_hub, unix_users["admins"])
        assert page.goto(f"{journey_hub.url}/hub/aifnb/progress?group=companies").status == 200
        page.context.close()
    finally:
        # Slurm deletes a reservation only once no job runs in it; an active one leaves the node in state resv.
        with journey_hub.login(learner) as session:
            if session.server():
                session.stop()
        subprocess.run(["scontrol", "delete", f"ReservationName={RESERVATION}"], capture_output=True)
        left = subprocess.run(["scontrol", "show", "reservation", RESERVATION], capture_output=True, text=True)
        assert left.returncode != 0, f"reservation {RESERVATION} left behind:\n{left.stdout}"


def test_company_follows_the_sme_pathway_from_the_maturity_result(journey_hub, unix_users, chromium):
    """The company's home starts with the maturity self-assessment; its result's recommended links open the right
    notebooks in the session; the home then marks the step done and the next one as next."""
    company = unix_users["companies"]
    page = demo_login(chromium, journey_hub, company)
    page.wait_for_url("**/hub/home")
    first = page.locator('#aifnb-pathway li[data-step="maturity"]')
    assert first.get_attribute("data-state") == "todo" and "next" in first.inner_text()
    shot(page, "9-company-pathway")
    first.locator("a.aifnb-open").click()
    page.wait_for_url(f"**/user/{company}/lab/tree/ai-factory/{MATURITY}", timeout=START)
    find_cell(page, "app.export()")

    run_cell(page, "ANSWERS = '")
    run_cell(page, "MaturityApp(ANSWERS")
    summary = run_cell(page, "app.widget")
    recommended = summary.locator("a[href*='/hub/aifnb/open/']")
    recommended.first.wait_for(timeout=120_000)
    exported = run_cell(page, "app.export()")
    exported.get_by_text("Radar chart written").wait_for(timeout=60_000)
    shot(page, "10-maturity-result")

    links = recommended.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert links and all(re.fullmatch(r"/hub/aifnb/open/(courses|sandboxes)/[A-Za-z0-9_.-]+\.ipynb", h) for h in links), links
    with page.context.expect_page() as opened:
        recommended.first.click()
    tab = opened.value
    path = links[0].removeprefix("/hub/aifnb/open/")
    tab.wait_for_url(f"**/user/{company}/lab/tree/ai-factory/{path}", timeout=60_000)
    tab.locator(".jp-NotebookPanel").first.wait_for(timeout=60_000)
    shot(tab, "11-recommended-notebook-open")
    tab.close()

    page.goto(f"{journey_hub.url}/hub/home")
    steps = page.locator("#aifnb-pathway li")
    assert steps.nth(0).get_attribute("data-state") == "done"
    assert steps.nth(1).get_attribute("data-next") == "true", "the step after the assessment is the next one"
    opened = page.locator(f'#aifnb-pathway li:has(a[href="/hub/aifnb/open/{path}"])')
    assert opened.count() == 0 or opened.get_attribute("data-state") == "started", (
        "a step opened from the result shows as started"
    )
    shot(page, "12-company-pathway-after-assessment")
    page.context.close()
