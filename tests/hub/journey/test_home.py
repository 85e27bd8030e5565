"""What the home shows each user: services filtered by groups, the profile a link starts, progress, pathway, workshops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import yaml

from aifnb_hub.catalogue import load_catalogue
from aifnb_hub.journey.home import PATHWAY_COURSE, Journey, course_of
from aifnb_hub.journey.progress import ProgressStore
from aifnb_hub.settings import load_settings


def user(name: str, *groups: str, admin: bool = False) -> SimpleNamespace:
    return SimpleNamespace(name=name, groups=[SimpleNamespace(name=g) for g in groups], admin=admin)


@pytest.fixture
def journey(tmp_path) -> Journey:
    now = datetime.now(UTC)
    workshops = [
        {"slug": "now", "title": "Open now", "group": "learners", "start": now - timedelta(hours=1), "end": now + timedelta(hours=1), "profile": "cpu-course"},
        {"slug": "later", "title": "Later today", "group": "learners", "start": now + timedelta(hours=2), "end": now + timedelta(hours=3), "profile": "cpu-course"},
        {"slug": "past", "title": "Yesterday", "group": "learners", "start": now - timedelta(days=1), "end": now - timedelta(hours=20), "profile": "cpu-course"},
        {"slug": "companies", "title": "Other group", "group": "companies", "start": now - timedelta(hours=1), "end": now + timedelta(hours=1), "profile": "cpu-course"},
    ]  # fmt: skip
    site = tmp_path / "site.yaml"
    site.write_text(
        yaml.safe_dump({"workshops": [{**w, "start": w["start"].isoformat(), "end": w["end"].isoformat()} for w in workshops]})
    )
    return Journey(settings=load_settings(site), catalogue=load_catalogue(), store=ProgressStore(tmp_path / "progress"))


def test_a_learner_sees_the_courses_and_never_the_company_only_notebooks(journey):
    """Learners get the Upskill courses; the maturity assessment (audience company) and empty services are not shown."""
    home = journey.home(user("alice", "learners"))
    ids = [s["id"] for s in home["services"]]
    assert ids[0] == "upskill" and "inspire" not in ids and "fund" not in ids
    upskill = next(s for s in home["services"] if s["id"] == "upskill")
    assert upskill["entries"][0]["title"] == "Course 1: Working on the AI Factory"
    assert upskill["entries"][0]["profile"] == "cpu-course"
    paths = [e["path"] for s in home["services"] for e in s["entries"]]
    assert "sandboxes/ai_maturity_assessment.ipynb" not in paths
    assert home["pathway"] == [] and home["teaches"] is False


def test_a_gpu_notebook_names_a_profile_only_for_groups_that_may_start_one(journey):
    """Course 3 needs a GPU: a learner's link has no profile (the home says why), a company's starts gpu-sandbox."""
    learner = journey.home(user("alice", "learners"))
    company = journey.home(user("carol", "companies", "learners"))
    course3 = "courses/03-transformers-and-llms.ipynb"
    find = lambda home: next(e for s in home["services"] for e in s["entries"] if e["path"] == course3)
    assert find(learner)["profile"] is None and find(company)["profile"] == "gpu-sandbox"


def test_progress_and_pathway_follow_the_store(journey):
    """Reported checks show per course; the pathway marks the maturity step done and the next one as next."""
    journey.store.add("carol", course_of("courses/04-responsible-ai-social-bias.ipynb"), "ex1", "check", True)
    journey.store.add("carol", PATHWAY_COURSE, "maturity", "check", True)
    journey.store.add("carol", course_of("sandboxes/bias_assessment.ipynb"), "notebook", "open", True)
    home = journey.home(user("carol", "companies"))
    course4 = next(e for s in home["services"] for e in s["entries"] if e["path"].startswith("courses/04"))
    assert course4["progress"].checks_passed == 1 and course4["exercises"] >= 1 and course4["quiz"] >= 3
    states = {step["id"]: (step["state"], step["next"]) for step in home["pathway"]}
    assert states["maturity"] == ("done", False)
    assert states["ai-act-triage"] == ("todo", True)
    assert states["bias"] == ("started", False)


def test_a_pathway_step_whose_notebook_ran_to_its_end_is_done(journey):
    """A session reports a notebook that ran to its end (kind run): its pathway step is done, and the next one is next."""
    journey.store.add("carol", PATHWAY_COURSE, "maturity", "check", True)
    journey.store.add("carol", course_of("sandboxes/ai_act_risk_triage.ipynb"), "notebook", "run", True)
    journey.store.add("carol", course_of("sandboxes/bias_assessment.ipynb"), "notebook", "open", True)
    states = {step["id"]: (step["state"], step["next"]) for step in journey.home(user("carol", "companies"))["pathway"]}
    assert states["maturity"] == ("done", False) and states["ai-act-triage"] == ("done", False)
    assert states["bias"] == ("started", True) and states["build"] == ("todo", False)
    assert journey.store.courses("carol")[course_of("sandboxes/ai_act_risk_triage.ipynb")].finished


def test_workshops_show_to_their_group_now_or_later_today(journey):
    """Open and later-today workshops of the user's group show; past ones and other groups' do not."""
    shown = {w["slug"]: w["open"] for w in journey.home(user("alice", "learners"))["workshops"]}
    assert shown == {"now": True, "later": False}
    assert [w["slug"] for w in journey.home(user("carol", "companies"))["workshops"]] == ["companies"]


def test_trainers_teach_the_groups_the_settings_name_and_admins_all(journey):
    """trainer1 teaches learners (groups.learners.trainers); an admin sees every group; a learner none."""
    assert journey.teaches("trainer1", admin=False) == ["learners"]
    assert journey.teaches("admin1", admin=True) == list(journey.settings.groups)
    assert journey.teaches("alice", admin=False) == []


def test_the_login_page_gets_no_journey(journey):
    """Without a user (the login page) the template variable is empty."""
    assert journey.home(None) == {}
