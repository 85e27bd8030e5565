"""The bias-assessment dashboard: choose models and categories, run, read the table, drill down.

A view only: every action goes through :class:`BiasController`, and every chart and table
comes from the engine's report module, so the dashboard shows what the CLI writes. With the
hub's MLflow service, a finished run is logged there (one run per model, as the CLI does) and
the dashboard links each run.
"""

from __future__ import annotations

import base64
import html
import json

import ipywidgets as widgets

from aifnb_data.client import CATALOGUE_SPEC, available
from aifnb_widgets import mlops
from aifnb_widgets.bias.concerns import CATEGORIES
from aifnb_widgets.bias.leaderboard import leaderboard_heatmap, leaderboard_table
from aifnb_widgets.bias.report import (
    bars,
    heatmap,
    html_report,
    summary_json,
    tests_table,
)
from aifnb_widgets.ui.bias_controller import BiasController, RunRequest

LANGUAGES = {"English": "en", "Français": "fr", "Deutsch": "de"}
DRILL_COLUMNS = ["language", "template_id", "status", "outcome", "reason", "prompts", "answers"]


class BiasAssessmentApp:
    def __init__(
        self,
        models: list[str] | None = None,
        languages: list[str] | None = None,
        n_templates: int = 3,
        seed: int = 0,
        catalogue: list[dict] | None = None,
    ):
        self.controller = BiasController(on_progress=self._on_progress, on_finished=self._on_finished)
        self.figures: dict = {}
        self._updating = False

        self.models = widgets.Textarea(
            value="\n".join(models or []),
            description="Models",
            placeholder="one per line: /path/to/model, org/model-id, models:/NAME/VERSION or http://host:8000/v1#model-name",
            layout=widgets.Layout(width="95%", height="70px"),
        )
        # The data catalogue's models and endpoints the user may use (the hub's answer), as catalogue:NAME.
        records = available(kind="model") if catalogue is None else catalogue
        self.catalogue_models = widgets.SelectMultiple(
            options=[(f"{r['title']} ({r['licence']})", f"{CATALOGUE_SPEC}{r['name']}") for r in records],
            description="Catalogue",
            rows=min(max(len(records), 1), 5),
            layout=widgets.Layout(display="" if records else "none"),
        )
        self.categories = widgets.SelectMultiple(
            options=list(CATEGORIES.values()), value=list(CATEGORIES.values()), description="Categories", rows=7
        )
        self.languages = widgets.SelectMultiple(
            options=list(LANGUAGES.items()),
            value=[c for c in (languages or ["en"]) if c in LANGUAGES.values()],
            description="Languages",
            rows=3,
        )
        self.n_templates = widgets.IntSlider(value=n_templates, min=1, max=15, description="Templates")
        self.seed = widgets.IntText(value=seed, description="Seed")
        self.run_button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", disabled=True)
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Prompts")
        self.status = widgets.HTML()
        #: Each model's MLflow run page, once a finished run was logged (see :meth:`_log_to_mlflow`).
        self.mlflow_runs: dict[str, str] = {}
        self.mlflow_links = widgets.HTML()
        self.spec = widgets.ToggleButtons(options=[], description="Scoring")
        self.table_html = widgets.HTML()
        self.leaderboard_out = widgets.Output()
        self.heatmap_out = widgets.Output()
        self.bars_out = widgets.Output()
        self.drill_model = widgets.Dropdown(description="Model")
        self.drill_category = widgets.Dropdown(description="Category")
        self.drill_table = widgets.HTML()
        self.export_buttons = {kind: widgets.Button(description=f"Export {kind.upper()}") for kind in ("csv", "json", "html")}
        self.export_links = widgets.HTML()

        self.run_button.on_click(lambda _: self.run())
        self.cancel_button.on_click(lambda _: self.controller.cancel())
        self.spec.observe(lambda _: self._render_results(), names="value")
        for control in (self.drill_model, self.drill_category):
            control.observe(lambda _: self._render_drill(), names="value")
        for kind, button in self.export_buttons.items():
            button.on_click(lambda _, kind=kind: self.export(kind))

        tabs = widgets.Tab(
            children=[
                widgets.VBox([self.leaderboard_out, self.table_html]),
                self.heatmap_out,
                self.bars_out,
                widgets.VBox([widgets.HBox([self.drill_model, self.drill_category]), self.drill_table]),
                widgets.VBox([widgets.HBox(list(self.export_buttons.values())), self.export_links]),
            ]
        )
        for index, title in enumerate(["Leaderboard", "Heatmap", "Intervals", "Drill-down", "Export"]):
            tabs.set_title(index, title)
        self.widget = widgets.VBox(
            [
                widgets.HTML("<h3>Social-bias assessment (LangBiTe method)</h3>"),
                self.models,
                self.catalogue_models,
                widgets.HBox([self.categories, self.languages, widgets.VBox([self.n_templates, self.seed])]),
                widgets.HBox([self.run_button, self.cancel_button, self.progress]),
                self.status,
                self.mlflow_links,
                self.spec,
                tabs,
            ]
        )

    def request(self) -> RunRequest:
        labels = {label: concern for concern, label in CATEGORIES.items()}
        return RunRequest(
            models=[line.strip() for line in self.models.value.splitlines() if line.strip()] + list(self.catalogue_models.value),
            concerns=[labels[c] for c in self.categories.value],
            languages=list(self.languages.value),
            n_templates=self.n_templates.value,
            seed=self.seed.value,
        )

    def run(self, wait: bool = False) -> None:
        """Start a run (the Run button); ``wait=True`` blocks until done, for headless notebooks."""
        self.progress.value = 0
        if not self.controller.start(self.request()):
            self._show_status(self.controller.error, error=True)
            return
        self.run_button.disabled, self.cancel_button.disabled = True, False
        self._show_status("running… (Cancel stops after the current batch; finished calls are kept)")
        if wait:
            self.controller.join()

    @property
    def assessment(self):
        return self.controller.assessment

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = done

    def _on_finished(self, controller: BiasController) -> None:
        self.run_button.disabled, self.cancel_button.disabled = False, True
        if controller.error:
            self._show_status(controller.error, error=True)
        else:
            gaps = controller.assessment.incomplete() if controller.assessment is not None else {}
            missing = sum(gap for gap, _ in gaps.values())
            state = "cancelled — partial results" if controller.cancelled else "done"
            if missing:
                state += f"; {missing} test(s) have no answer (Run again to retry them)"
            self._show_status(f"{state}; records in {controller.run_dir}", error=bool(missing))
        if controller.assessment is not None:
            tests = controller.assessment.tests
            self._updating = True  # one render below, not one per changed selector
            try:
                self.drill_model.options = list(dict.fromkeys(tests["model"]))
                self.drill_model.value = self.drill_model.options[0]
                self.drill_category.options = list(dict.fromkeys(tests["category"]))
                self.drill_category.value = self.drill_category.options[0]
                self.spec.options = controller.assessment.specs
                self.spec.value = self.spec.options[0]
            finally:
                self._updating = False
            self._render_results()
        if not controller.error and not controller.cancelled and controller.assessment is not None:
            self._log_to_mlflow(controller)

    def _log_to_mlflow(self, controller: BiasController) -> None:
        """Log the finished run (called in the run's worker thread, off the kernel's)."""
        self.mlflow_runs, self.mlflow_links.value = {}, ""
        try:
            self.mlflow_runs = mlops.log_assessment_runs(controller.assessment, controller.run_dir)
        except mlops.MlflowServiceError as exc:
            self.mlflow_links.value = f"<span style='color:#b00020'>Not logged to MLflow: {html.escape(str(exc))}</span>"
            return
        links = (
            f"<a href='{html.escape(page)}' target='_blank'>{html.escape(model)}</a>" for model, page in self.mlflow_runs.items()
        )
        self.mlflow_links.value = f"MLflow runs: {', '.join(links)}" if self.mlflow_runs else ""

    def _show_status(self, message: str | None, error: bool = False) -> None:
        colour = "#b00020" if error else "#333"
        self.status.value = f"<span style='color:{colour}'>{html.escape(message or '')}</span>"

    def _render_results(self) -> None:
        assessment = self.assessment
        if assessment is None or not self.spec.value or self._updating:
            return
        self.figures = {
            "leaderboard": leaderboard_heatmap(assessment, self.spec.value),
            "heatmap": heatmap(assessment, self.spec.value),
            "bars": bars(assessment, self.spec.value),
        }
        table = leaderboard_table(assessment, self.spec.value)
        self.table_html.value = (
            "<p>Models sorted by mean, baselines (trivial answerers on the same prompts) last. Each cell: % of "
            "tests passed [95 % interval], then the share of the category's tests with a valid answer. The mean "
            "needs all seven categories.</p>"
            + table.map(lambda c: html.escape(str(c)).replace(" · ", "<br>")).to_html(index=False, escape=False)
        )
        for out, key in ((self.leaderboard_out, "leaderboard"), (self.heatmap_out, "heatmap"), (self.bars_out, "bars")):
            out.clear_output()
            out.append_display_data(self.figures[key])
        self._render_drill()

    def _render_drill(self) -> None:
        assessment = self.assessment
        if assessment is None or self._updating:
            return
        tests = tests_table(assessment)
        rows = tests[
            (tests["model"] == self.drill_model.value)
            & (tests["category"] == self.drill_category.value)
            & (tests["spec"] == self.spec.value)
        ][DRILL_COLUMNS].copy()
        rows["answers"] = rows["answers"].map(lambda a: ["<no answer>" if x is None else x for x in a])
        for column in DRILL_COLUMNS:
            rows[column] = rows[column].map(
                lambda v: "<br>".join(html.escape(str(x)) for x in (v if isinstance(v, list) else [v]))
            )
        self.drill_table.value = rows.to_html(index=False, escape=False)

    def export(self, kind: str) -> str:
        """Write the export into the run directory and offer it as a download link (works under Voila)."""
        assessment = self.assessment
        if assessment is None:
            self._show_status("nothing to export yet: run an assessment first", error=True)
            return ""
        if kind == "csv":
            name, mime, data = "bias_summary.csv", "text/csv", assessment.summary.to_csv(index=False)
        elif kind == "json":
            name, mime, data = (
                "bias_results.json",
                "application/json",
                json.dumps(summary_json(assessment), indent=1, ensure_ascii=False),
            )
        else:
            name, mime, data = "bias_report.html", "text/html", html_report(assessment)
        path = self.controller.run_dir / name
        path.write_text(data, encoding="utf-8")
        encoded = base64.b64encode(data.encode()).decode()
        self.export_links.value += f"<div><a download='{name}' href='data:{mime};base64,{encoded}'>{name}</a> (also saved to {html.escape(str(path))})</div>"
        return str(path)
