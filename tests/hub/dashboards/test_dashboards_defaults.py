"""The platform's default dashboards come from the catalogue; what is missing is skipped."""

from __future__ import annotations

import logging
import shutil

import pytest
import yaml

from aifnb_hub.catalogue import CATALOGUE_ENV_VAR
from aifnb_hub.dashboards.app import PLATFORM_AUTHOR, DashboardsApp
from aifnb_hub.settings import DashboardsSection, DefaultDashboard
from tests.hub.dashboards.conftest import slider_notebook


def entry(path: str, dashboard: bool = True) -> dict:
    return {
        "path": path,
        "title": f"Title of {path}",
        "summary": "One line.",
        "audience": ["learner"],
        "service": "Assess",
        "sector": "finance",
        "profile": "cpu",
        "duration_minutes": 10,
        "dashboard": dashboard,
    }


@pytest.fixture
def app(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    (notebooks / "sandboxes").mkdir(parents=True)
    for name in ("one", "plain"):
        (notebooks / "sandboxes" / f"{name}.ipynb").write_bytes(slider_notebook(name))
    catalogue = {"version": 1, "notebooks": [entry("sandboxes/one.ipynb"), entry("sandboxes/plain.ipynb", False), entry("sandboxes/gone.ipynb")]}
    (notebooks / "catalogue.yaml").write_text(yaml.safe_dump(catalogue))
    monkeypatch.setenv(CATALOGUE_ENV_VAR, str(notebooks / "catalogue.yaml"))
    defaults = [DefaultDashboard(path=p) for p in ("sandboxes/one.ipynb", "sandboxes/plain.ipynb", "sandboxes/gone.ipynb", "sandboxes/absent.ipynb")]
    options = DashboardsSection(store_dir=tmp_path / "store", defaults=defaults, preheat=0)
    return DashboardsApp(options, "/services/dashboards/", "http://127.0.0.1:1/hub/api", "token")


def test_defaults_are_published_from_the_catalogue(app, caplog):
    with caplog.at_level(logging.WARNING, logger="aifnb.dashboards"):
        app.publish_defaults()
    [only] = app.store.all()
    assert (only.slug, only.author, only.source) == ("one", PLATFORM_AUTHOR, "sandboxes/one.ipynb")
    assert only.service.value == "Assess" and only.sector.value == "finance" and only.title == "Title of sandboxes/one.ipynb"
    skipped = caplog.text
    assert "plain.ipynb skipped: not a dashboard" in skipped
    assert "gone.ipynb skipped: file missing" in skipped
    assert "absent.ipynb skipped" in skipped


def test_restart_keeps_unchanged_and_trainer_versions(app):
    app.publish_defaults()
    first = app.store.get("one")
    app.publish_defaults()
    assert app.store.get("one").version == first.version  # unchanged notebook: no new version
    app.store.publish(slider_notebook("mine"), slug="one", title="Mine", author="trainer1", groups=["learners"])
    shutil.copy(app.catalogue.file("sandboxes/plain.ipynb"), app.catalogue.file("sandboxes/one.ipynb"))
    app.publish_defaults()
    assert app.store.get("one").author == "trainer1"  # a trainer's replacement wins
