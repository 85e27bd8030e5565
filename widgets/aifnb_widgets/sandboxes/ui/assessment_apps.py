"""Dashboards for the regulatory and assess sandboxes: a questionnaire form wired to a pure evaluator.

Each app recomputes its ``result`` on every change and starts from the notebook's ANSWERS parameter, so it
renders a meaningful state under Voila and under papermill with no user interaction.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from IPython.display import display

from aifnb_widgets.sandboxes.ai_act.conformity import (
    ConformityAssessment,
    RunEvidence,
    SystemDescription,
    assess,
    load_checklist,
    model_card,
    technical_documentation,
)
from aifnb_widgets.sandboxes.ai_act.triage import RiskTier, TriageResult, load_ruleset, triage
from aifnb_widgets.sandboxes.charts import maturity_radar, percent_bars
from aifnb_widgets.sandboxes.maturity.scoring import MaturityResult, load_maturity_model, score_maturity
from aifnb_widgets.sandboxes.questionnaire import AnswerValue
from aifnb_widgets.sandboxes.ui.questionnaire_form import QuestionnaireForm
from aifnb_widgets.teaching import progress

_TIER_COLOURS = {
    RiskTier.out_of_scope: "#6c757d",
    RiskTier.prohibited: "#b00020",
    RiskTier.high_risk: "#e67e22",
    RiskTier.gpai_systemic_risk: "#8e44ad",
    RiskTier.gpai: "#6a5acd",
    RiskTier.transparency: "#1f77b4",
    RiskTier.minimal: "#2e7d32",
}


def _replace_figure(out: widgets.Output, fig: Any) -> None:
    out.clear_output(wait=True)
    with out:
        display(fig)


def _export_row(app: TriageApp | ConformityApp | MaturityApp) -> widgets.HBox:
    button = widgets.Button(description="Export report", icon="download")
    button.on_click(lambda _b: app.export())
    return widgets.HBox([button, app.export_status])


class TriageApp:
    def __init__(self, answers: Mapping[str, Any] | str | None = None, output_dir: str | Path = ".") -> None:
        self.output_dir = Path(output_dir)
        self.form = QuestionnaireForm(load_ruleset().questionnaire, answers)
        self.summary = widgets.HTML()
        self.export_status = widgets.HTML()
        self.result: TriageResult
        self.form.on_change(self._update)
        self._update(self.form.answers)
        self.widget = widgets.VBox([self.summary, _export_row(self), widgets.HTML("<hr>"), self.form.widget])

    def export(self) -> dict[str, Path]:
        """Save the current state (form edits included) as a readable report and a machine-readable JSON."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        paths = {"report": self.output_dir / "triage_report.md", "result": self.output_dir / "triage_result.json"}
        paths["report"].write_text("# AI Act risk triage\n\n" + self.result.to_markdown() + "\n", encoding="utf-8")
        paths["result"].write_text(self.result.model_dump_json(indent=2), encoding="utf-8")
        self.export_status.value = "Written: " + ", ".join(html.escape(str(p)) for p in paths.values())
        return paths

    def _update(self, answers: dict[str, AnswerValue]) -> None:
        self.result = triage(answers)
        r = self.result
        items = (
            "".join(
                f"<li><b>{html.escape(t.cites)}</b> – {html.escape(t.title)}"
                f"{f' <i>({html.escape(who)})</i>' if (who := t.addressed_to(r.duties)) else ''}: "
                f"{html.escape(t.explanation)}</li>"
                for t in r.triggered
            )
            or "<li>No rule triggered.</li>"
        )
        lapses = "".join(f"<li><b>{html.escape(t.cites)}</b> – {html.escape(t.title)}</li>" for t in r.if_exclusion_lapses)
        if lapses:
            items += f"</ul><p>Would apply as soon as the system is used outside that exclusion:</p><ul>{lapses}"
        self.summary.value = (
            f"<div style='border-left:6px solid {_TIER_COLOURS[r.tier]};padding:4px 12px'>"
            f"<h3>Indicative tier: {html.escape(r.tier_label)}</h3><ul>{items}</ul>"
            f"<p><b>NOT LEGAL ADVICE.</b> {html.escape(r.disclaimer)}</p></div>"
        )


class ConformityApp:
    def __init__(
        self,
        answers: Mapping[str, Any] | str | None = None,
        evidence: Mapping[str, str] | str | None = None,
        system: SystemDescription | None = None,
        output_dir: str | Path = ".",
        runs: tuple[RunEvidence, ...] = (),
    ) -> None:
        self.evidence = evidence
        self.runs = runs
        self.system = system or SystemDescription()
        self.output_dir = Path(output_dir)
        self.form = QuestionnaireForm(load_checklist().as_questionnaire(), answers)
        self.summary = widgets.HTML()
        self.chart = widgets.Output()
        self.assessment: ConformityAssessment
        self.export_status = widgets.HTML()
        self.form.on_change(self._update)
        self._update(self.form.answers)
        self.widget = widgets.VBox([self.summary, self.chart, _export_row(self), widgets.HTML("<hr>"), self.form.widget])

    def _figure(self) -> Any:
        scores = {f"{r.title} ({r.cites})": r.score for r in self.assessment.requirements if r.score is not None}
        return percent_bars(scores, "Completion per requirement", threshold=1.0, axis_title="completion")

    def _update(self, answers: dict[str, AnswerValue]) -> None:
        self.assessment = assess(answers, self.evidence, runs=self.runs)
        a = self.assessment
        gaps = "".join(f"<li><b>{html.escape(g.item.cites)}</b>: {html.escape(g.item.text)}</li>" for g in a.gaps[:8])
        more = f"<li>… and {len(a.gaps) - 8} more</li>" if len(a.gaps) > 8 else ""
        self.summary.value = (
            f"<h3>Internal control self-assessment: {'n/a' if a.overall is None else f'{100 * a.overall:.0f} %'} complete, "
            f"{len(a.gaps)} open item(s): {html.escape(a.readiness_label)}</h3>"
            f"<ul>{gaps}{more}</ul><p><b>NOT LEGAL ADVICE.</b> {html.escape(a.disclaimer)}</p>"
        )
        _replace_figure(self.chart, self._figure())

    def export(self) -> dict[str, Path]:
        """Write the Annex IV technical-documentation skeleton and the model card next to each other."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        paths = {
            "technical_documentation": self.output_dir / "technical_documentation.md",
            "model_card": self.output_dir / "model_card.md",
        }
        paths["technical_documentation"].write_text(technical_documentation(self.system, self.assessment), encoding="utf-8")
        paths["model_card"].write_text(model_card(self.system, self.assessment), encoding="utf-8")
        self.export_status.value = "Written: " + ", ".join(html.escape(str(p)) for p in paths.values())
        return paths


#: The progress record that marks the SME pathway's first step done (course, item): the hub's
#: ``aifnb_hub.journey.home.PATHWAY_COURSE`` and the step id in the settings' ``home.pathway``.
MATURITY_STEP = ("sme-pathway", "maturity")


class MaturityApp:
    def __init__(self, answers: Mapping[str, Any] | str | None = None, output_dir: str | Path = ".") -> None:
        self.output_dir = Path(output_dir)
        self.form = QuestionnaireForm(load_maturity_model().as_questionnaire(), answers)
        self.summary = widgets.HTML()
        self.chart = widgets.Output()
        self.export_status = widgets.HTML()
        self.result: MaturityResult
        self.form.on_change(self._update)
        self._update(self.form.answers)
        self.widget = widgets.VBox([self.summary, self.chart, _export_row(self), widgets.HTML("<hr>"), self.form.widget])

    def export(self) -> dict[str, Path]:
        """Radar as HTML (plotly.js from its CDN keeps the file small) plus the scores as JSON."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        paths = {"radar": self.output_dir / "maturity_radar.html", "result": self.output_dir / "maturity_result.json"}
        self.figure().write_html(paths["radar"], include_plotlyjs="cdn")
        paths["result"].write_text(self.result.model_dump_json(indent=2), encoding="utf-8")
        self.export_status.value = "Written: " + ", ".join(html.escape(str(p)) for p in paths.values())
        # The first step of the SME pathway is done: the hub's home shows it (and what comes next).
        progress.record(*MATURITY_STEP, "check", True)
        return paths

    def figure(self) -> Any:
        return maturity_radar({d.title: d.score for d in self.result.dimensions})

    def _update(self, answers: dict[str, AnswerValue]) -> None:
        self.result = score_maturity(answers)
        rows = "".join(
            f"<tr><td>{html.escape(d.title)}</td><td>{d.score:.0f}</td><td>{html.escape(d.level)}</td>"
            f"<td><b>{html.escape(d.service_label)}</b>: {html.escape(d.next_step)}"
            + "".join(
                f"<br>→ <a href='{html.escape(nb.href())}' target='_blank'>{html.escape(nb.title)}</a> ({nb.minutes} min)"
                for nb in d.notebooks
            )
            + "</td></tr>"
            for d in self.result.dimensions
        )
        self.summary.value = (
            f"<h3>Overall maturity: {self.result.overall:.0f}/100 ({html.escape(self.result.overall_level)})</h3>"
            f"<table><tr><th>Dimension</th><th>Score</th><th>Level</th><th>Next step with the AI Factory</th></tr>{rows}</table>"
        )
        _replace_figure(self.chart, self.figure())
