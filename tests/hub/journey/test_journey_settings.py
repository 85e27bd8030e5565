"""The journey's settings (home services, profile and audience maps, pathway, workshops, trainers): data, checked at start."""

from __future__ import annotations

import pytest
import yaml

from aifnb_hub.catalogue import load_catalogue
from aifnb_hub.journey.home import Journey
from aifnb_hub.journey.progress import ProgressStore
from aifnb_hub.settings import SettingsError, load_settings

WORKSHOP = {
    "slug": "ai-act-dec",
    "title": "AI Act, hands-on",
    "group": "learners",
    "start": "2026-12-01T09:00:00+01:00",
    "end": "2026-12-01T17:00:00+01:00",
    "profile": "cpu-course",
    "reservation": "aiact-dec",
}


def load(tmp_path, site: dict):
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    return load_settings(path)


def test_shipped_home_lists_seven_services_and_the_pathway_starts_with_the_maturity_assessment():
    """The default home names the Factory's seven services; Inspire, Fund and Connect are empty until a centre fills them."""
    home = load_settings().home
    assert [s.title for s in home.services.values()] == [
        "Inspire", "Upskill & Train", "Assess", "Build & Test", "Scale & Run", "Fund", "Connect",
    ]  # fmt: skip
    assert all(not home.services[k].summary and not home.services[k].links for k in ("inspire", "fund", "connect"))
    assert home.pathway[0].path == "sandboxes/ai_maturity_assessment.ipynb"


def test_a_centre_fills_one_service_by_its_key(tmp_path):
    """A site file adds Fund's text and link; the other services keep their defaults and order."""
    fund = {"summary": "Grants for SMEs.", "links": [{"title": "Calls", "url": "https://factory.example/fund"}]}
    home = load(tmp_path, {"home": {"services": {"fund": fund}}}).home
    assert home.services["fund"].links[0].url == "https://factory.example/fund"
    assert list(home.services)[5] == "fund" and home.services["upskill"].catalogue == "Upskill"


@pytest.mark.parametrize(
    ("site", "where"),
    [
        ({"home": {"services": {"fund": {"links": [{"title": "x", "url": "javascript:alert(1)"}]}}}}, "home.services.fund.links"),
        ({"home": {"services": {"fund": {"titel": "x"}}}}, "home.services.fund.titel"),
        ({"home": {"profiles": {"cpu": ["no-such-profile"]}}}, "home.profiles.cpu"),
        ({"home": {"audiences": {"learner": ["nobody-group"]}}}, "home.audiences.learner"),
        ({"groups": {"learners": {"trainers": ["Bad Name"]}}}, "groups.learners.trainers"),
        ({"workshops": [{**WORKSHOP, "group": "nobody"}]}, "workshops.ai-act-dec.group"),
        ({"workshops": [{**WORKSHOP, "profile": "gpu-sandbox"}]}, "workshops.ai-act-dec.profile"),
        ({"workshops": [{**WORKSHOP, "reservation": "res; reboot"}]}, "workshops.0.reservation"),
        ({"workshops": [WORKSHOP, WORKSHOP]}, "listed twice"),
    ],
    ids=[
        "javascript-link",
        "typo",
        "profile",
        "audience-group",
        "trainer-name",
        "group",
        "profile-not-open",
        "reservation",
        "twice",
    ],
)
def test_bad_journey_settings_stop_the_hub_naming_the_key(tmp_path, site, where):
    """Each mistake fails at load, naming the key (a learners' workshop on a GPU profile they may not use, too)."""
    with pytest.raises(SettingsError, match=where.replace(".", r"\.")):
        load(tmp_path, site)


def test_a_workshop_and_a_trainer_load(tmp_path):
    """A valid workshop and a group's trainers load as written."""
    settings = load(tmp_path, {"workshops": [WORKSHOP], "groups": {"learners": {"trainers": ["trainer1"]}}})
    assert settings.workshops[0].reservation == "aiact-dec" and settings.groups["learners"].trainers == ("trainer1",)


def test_a_pathway_step_outside_the_catalogue_stops_the_hub(tmp_path):
    """The SME pathway may only name catalogue notebooks."""
    step = {"id": "x", "path": "sandboxes/not_there.ipynb", "text": "No such notebook."}
    settings = load(tmp_path, {"home": {"pathway": [step]}})
    with pytest.raises(SettingsError, match=r"home\.pathway\.0\.path"):
        Journey(settings=settings, catalogue=load_catalogue(), store=ProgressStore(tmp_path))
