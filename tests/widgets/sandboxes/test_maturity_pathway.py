"""The maturity self-assessment as the SME pathway's first step: real links through the hub, and the record the home reads."""

from __future__ import annotations

import re

from aifnb_hub.catalogue import load_catalogue
from aifnb_hub.journey.handlers import NOTEBOOK_ROUTE
from aifnb_hub.journey.home import PATHWAY_COURSE
from aifnb_hub.settings import load_settings
from aifnb_widgets.sandboxes.maturity.scoring import NotebookLink
from aifnb_widgets.sandboxes.ui.assessment_apps import MATURITY_STEP, MaturityApp


def test_recommendations_link_through_the_hub_in_a_session_and_relatively_elsewhere(monkeypatch):
    """In a session (JUPYTERHUB_BASE_URL set) a recommendation is the hub's open link; outside, a relative one."""
    link = NotebookLink(path="courses/06-data-for-ai-under-eu-rules.ipynb", title="Course 6", minutes=60)
    monkeypatch.setenv("JUPYTERHUB_BASE_URL", "/factory/")
    assert link.href() == "/factory/hub/aifnb/open/courses/06-data-for-ai-under-eu-rules.ipynb"
    monkeypatch.delenv("JUPYTERHUB_BASE_URL")
    assert link.href() == "../courses/06-data-for-ai-under-eu-rules.ipynb"


def test_every_catalogue_notebook_can_be_opened_by_the_hub_link():
    """The open handler's route admits every catalogue path, so no recommendation or home link is a 404."""
    assert all(re.fullmatch(NOTEBOOK_ROUTE, path) for path in load_catalogue().paths())


def test_exporting_the_result_records_the_step_the_home_reads(monkeypatch, tmp_path):
    """The export records (sme-pathway, maturity): the hub's pathway course and the settings' first step."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    assert (PATHWAY_COURSE, load_settings().home.pathway[0].id) == MATURITY_STEP
    MaturityApp(None, output_dir=tmp_path / "out").export()
    recorded = (tmp_path / ".aifnb" / "progress.jsonl").read_text()
    assert '"course": "sme-pathway"' in recorded and '"item": "maturity"' in recorded
