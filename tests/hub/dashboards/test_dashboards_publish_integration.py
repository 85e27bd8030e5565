"""aifnb-publish and the Publish panel against a real hub: trainers publish, learners are refused."""

from __future__ import annotations

import pytest

from aifnb_hub.dashboards.publish import PublishError, main, publish_notebook, unpublish
from aifnb_hub.dashboards.widget import PublishPanel
from tests.hub.dashboards.conftest import GALLERY, slider_notebook

pytestmark = pytest.mark.integration


def token_of(session) -> str:
    return session.api.headers["Authorization"].split()[1]


def test_command_publishes_replaces_and_unpublishes(dash_hub, tmp_path, capsys):
    notebook = tmp_path / "cli_demo.ipynb"
    notebook.write_bytes(slider_notebook())
    url = f"{dash_hub.url}{GALLERY}"
    with dash_hub.login("trainer1") as trainer:
        token = token_of(trainer)
        argv = [str(notebook), "--groups", "learners,companies", "--service", "Build & Test", "--url", url, "--token", token]
        assert main(argv) == 0
        assert '"slug": "cli-demo"' in capsys.readouterr().out
        first = publish_notebook(notebook, title="cli demo", slug="cli-demo", groups=["learners"], url=url, token=token)
        assert first["groups"] == ["learners"] and first["url"] == f"{GALLERY}d/cli-demo/"
        unpublish("cli-demo", url=url, token=token)
        with pytest.raises(PublishError, match="404"):
            unpublish("cli-demo", url=url, token=token)


def test_learner_is_refused_by_the_server(dash_hub, tmp_path):
    notebook = tmp_path / "mine.ipynb"
    notebook.write_bytes(slider_notebook())
    with dash_hub.login("learner1") as learner:
        panel = PublishPanel(notebook, url=f"{dash_hub.url}{GALLERY}", token=token_of(learner))
        assert panel.publish() is None
        assert "Not published: 403" in panel.status.value


def test_panel_publishes_for_a_trainer(dash_hub, tmp_path):
    notebook = tmp_path / "panel_demo.ipynb"
    notebook.write_bytes(slider_notebook())
    with dash_hub.login("trainer1") as trainer:
        panel = PublishPanel(notebook, url=f"{dash_hub.url}{GALLERY}", token=token_of(trainer))
        panel.sector.value = "space"
        model = panel.publish()
        assert model["sector"] == "space" and model["author"] == "trainer1"
        assert f'href="{GALLERY}d/panel-demo/"' in panel.status.value


def test_command_without_token_says_what_is_missing(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    monkeypatch.delenv("AIFNB_DASHBOARDS_URL", raising=False)
    (tmp_path / "x.ipynb").write_bytes(slider_notebook())
    assert main([str(tmp_path / "x.ipynb")]) == 1
    assert "give --url and --token" in capsys.readouterr().err
