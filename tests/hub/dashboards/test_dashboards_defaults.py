"""The platform's default dashboards come from the catalogue; what is missing is skipped."""

from __future__ import annotations

import logging
import shutil

import pytest
import yaml

from aifnb_hub.catalogue import CATALOGUE_ENV_VAR
from aifnb_hub.dashboards.app import PLATFORM_AUTHOR, DashboardsApp, NotOwnerError
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
    catalogue = {
        "version": 1,
        "notebooks": [entry("sandboxes/one.ipynb"), entry("sandboxes/plain.ipynb", False), entry("sandboxes/gone.ipynb")],
    }
    (notebooks / "catalogue.yaml").write_text(yaml.safe_dump(catalogue))
    monkeypatch.setenv(CATALOGUE_ENV_VAR, str(notebooks / "catalogue.yaml"))
    defaults = [
        DefaultDashboard(path=p)
        for p in ("sandboxes/one.ipynb", "sandboxes/plain.ipynb", "sandboxes/gone.ipynb", "sandboxes/absent.ipynb")
    ]
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


def test_restart_keeps_unchanged_and_admin_replaced_versions(app):
    """A restart republishes nothing unchanged, and never overwrites what an admin put in its place."""
    app.publish_defaults()
    first = app.store.get("one")
    app.publish_defaults()
    assert app.store.get("one").version == first.version  # unchanged notebook: no new version
    admin = {"name": "admin1", "groups": ["admins"]}
    app.store.publish(
        slider_notebook("mine"),
        slug="one",
        title="Mine",
        author="admin1",
        owner=app.may_change(admin, "one").owner,
        groups=["learners"],
    )
    shutil.copy(app.catalogue.file("sandboxes/plain.ipynb"), app.catalogue.file("sandboxes/one.ipynb"))
    app.publish_defaults()
    assert (app.store.get("one").author, app.store.get("one").owner) == ("admin1", PLATFORM_AUTHOR)  # an admin's replacement wins


def test_platform_defaults_are_changed_by_admins_only(app):
    """A default belongs to the platform: a trainer may not replace or unpublish it, an admin may."""
    app.publish_defaults()
    trainer = {"name": "trainer1", "groups": ["trainers"]}
    with pytest.raises(NotOwnerError, match="belongs to the platform"):
        app.may_change(trainer, "one")
    with pytest.raises(NotOwnerError, match="belongs to the platform"):
        app.unpublish(trainer, "one")
    assert app.store.get("one") is not None
    assert app.may_change({"name": "admin1", "groups": ["admins"]}, "one").owner == PLATFORM_AUTHOR
    assert app.unpublish({"name": "admin1", "groups": ["admins"]}, "one") and app.store.get("one") is None
