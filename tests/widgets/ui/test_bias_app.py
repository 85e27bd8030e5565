"""The dashboard driven headless: set widget values, click, read the state."""

import pytest

from aifnb_widgets.ui.bias_app import BiasAssessmentApp


@pytest.fixture
def app(always_no_dir):
    return BiasAssessmentApp(models=[str(always_no_dir)], languages=["en"], n_templates=1, seed=0)


def test_run_fills_table_charts_drill_down_and_exports(app, tmp_path):
    app.categories.value = ("Gender", "Political")
    app.run_button.click()
    app.controller.join(timeout=120)
    assert "done" in app.status.value, app.status.value
    assert app.progress.value == app.progress.max > 0
    assert app.spec.options == ("langbite-compat-1", "aifnb-1")
    heat = app.figures["heatmap"].data[0]
    assert list(heat.x) == ["Gender", "Political", "Mean"]
    assert list(heat.y)[-2:] == ["baseline: always No", "baseline: always refuses"]
    assert "passed" in heat.hovertext[0][0] and "[" in heat.hovertext[0][0]
    assert len(app.figures["bars"].data) == 3
    app.drill_category.value = "Political"
    assert "No." in app.drill_table.value and ("Passed" in app.drill_table.value or "Failed" in app.drill_table.value)
    for kind in ("csv", "json", "html"):
        assert app.export(kind)
    assert app.export_links.value.count("download=") == 3
    app.spec.value = "aifnb-1"
    assert "aifnb-1" in app.figures["heatmap"].layout.title.text


def test_bad_input_is_shown_not_raised(app, tmp_path):
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
    app.n_templates.value = 15
    app.controller.on_progress = lambda done, total: app.controller.cancel() if done else None
    app.run(wait=True)
    assert "cancelled" in app.status.value
    assert app.assessment is not None
    made = app.assessment.tests[app.assessment.tests["kind"] == "model"]
    assert 0 < len(made) < 7 * 15 * 2


def test_an_unloadable_model_ends_with_a_message(tmp_path):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    app = BiasAssessmentApp(models=[str(broken)], n_templates=1)
    app.run(wait=True)
    assert "cannot load model" in app.status.value or "Error" in app.status.value
    assert not app.run_button.disabled
