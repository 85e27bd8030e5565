"""The dashboard driven headless: set widget values, click, read the state."""

import pytest

from aifnb_widgets.bias.baselines import BASELINES
from aifnb_widgets.ui.bias_app import BiasAssessmentApp


@pytest.fixture
def app(always_no_dir):
    return BiasAssessmentApp(models=[str(always_no_dir)], languages=["en"], n_templates=1, seed=0)


def test_run_fills_table_charts_drill_down_and_exports(app, tmp_path):
    """Run fills table charts drill down and exports."""
    app.categories.value = ("Gender", "Political")
    app.run_button.click()
    app.controller.join(timeout=120)
    assert "done" in app.status.value, app.status.value
    assert app.progress.value == app.progress.max > 0
    assert app.spec.options == ("langbite-compat-2", "aifnb-2")
    heat = app.figures["heatmap"].data[0]
    assert list(heat.x) == ["Gender", "Political", "Mean"]
    assert [y.removeprefix("baseline: ") for y in list(heat.y)[1:]] == list(BASELINES)
    assert "passed" in heat.hovertext[0][0] and "valid" in heat.hovertext[0][0]
    assert "valid" in heat.text[0][0] and "n/e" in heat.text[-2][0]  # the empty answer: not enough valid answers
    board = app.figures["leaderboard"].data[0]
    assert board.y[0].endswith(app.models.value.rsplit("/", 1)[-1]) and board.y[-1].startswith("baseline / ")
    assert "no mean: 2 of 7 categories assessed" in app.table_html.value and "valid 100%" in app.table_html.value
    assert str(app.models.value) in [bar.name for bar in app.figures["bars"].data]
    app.drill_category.value = "Political"
    assert "valid answers" in app.figures["bars"].data[0].hovertemplate
    assert "<th>outcome</th>" in app.drill_table.value
    assert "No." in app.drill_table.value and ("Passed" in app.drill_table.value or "Failed" in app.drill_table.value)
    for kind in ("csv", "json", "html"):
        assert app.export(kind)
    assert app.export_links.value.count("download=") == 3
    app.spec.value = "aifnb-2"
    assert "aifnb-2" in app.figures["heatmap"].layout.title.text


def test_bad_input_is_shown_not_raised(app, tmp_path):
    """Bad input is shown not raised."""
    app.models.value = str(tmp_path / "missing-model")
    app.run_button.click()
    assert "does not exist" in app.status.value and not app.controller.running
    app.models.value = "x; rm -rf ~"
    app.run_button.click()
    assert "not allowed" in app.status.value
    app.models.value = ""
    app.run_button.click()
    assert "at least one model" in app.status.value


def test_cancel_keeps_partial_results(app):
    """Cancel keeps partial results."""
    app.n_templates.value = 15
    app.controller.on_progress = lambda done, total: app.controller.cancel() if done else None
    app.run(wait=True)
    assert "cancelled" in app.status.value
    assert app.assessment is not None
    made = app.assessment.tests[app.assessment.tests["kind"] == "model"]
    assert 0 < len(made) < 7 * 15 * 2


def test_an_unloadable_model_ends_with_a_message(tmp_path):
    """An unloadable model ends with a message."""
    broken = tmp_path / "broken-model"
    broken.mkdir()
    app = BiasAssessmentApp(models=[str(broken)], n_templates=1)
    app.run(wait=True)
    assert "cannot load model" in app.status.value or "Error" in app.status.value
    assert not app.run_button.disabled


def test_catalogue_models_are_offered_resolved_and_refusals_shown(always_no_dir, monkeypatch):
    """The app lists the catalogue's models the hub gave; a chosen one runs from the path the hub
    resolved (purpose bias), and a refusal is shown in the status, not raised."""
    import aifnb_data.client as client
    from aifnb_data.access import AccessRefused

    records = [{"name": "tiny-gpt2", "title": "Tiny GPT-2", "licence": "BSD-3-Clause"}]
    asked = []

    def resolve_for(name, purpose="session", job=None):
        asked.append((name, purpose))
        if name == "tiny-t5":
            raise AccessRefused("model 'tiny-t5' is shared with companies only, and you are in learners; ask x@y for access")
        return client.Resolution(name=name, kind="model", format="transformers", path=always_no_dir)

    monkeypatch.setattr(client, "resolve_for", resolve_for)
    app = BiasAssessmentApp(languages=["en"], n_templates=1, catalogue=records)
    assert app.catalogue_models.options == (("Tiny GPT-2 (BSD-3-Clause)", "catalogue:tiny-gpt2"),)
    app.catalogue_models.value = ("catalogue:tiny-gpt2",)
    app.categories.value = ("Gender",)
    app.run(wait=True)
    assert "done" in app.status.value, app.status.value
    assert asked == [("tiny-gpt2", "bias")]
    assert str(always_no_dir) in set(app.assessment.tests["model"])
    app.models.value = "catalogue:tiny-t5"
    app.catalogue_models.value = ()
    app.run_button.click()
    assert "shared with companies only" in app.status.value and not app.controller.running
