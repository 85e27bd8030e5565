"""One ipywidgets form for any :class:`~aifnb_widgets.sandboxes.questionnaire.Questionnaire`.

The triage, conformity and maturity dashboards differ only in what they do with the answers, so they share
this form; its state is readable and settable from Python, which is how the tests drive it headless.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from aifnb_widgets.sandboxes.questionnaire import AnswerValue, Question, QuestionKind, Questionnaire

_FULL_WIDTH = widgets.Layout(width="100%")


class QuestionnaireForm:
    """``controls[qid]`` is a Checkbox (yes/no), a RadioButtons (single) or a dict option id -> Checkbox (multi)."""

    def __init__(self, questionnaire: Questionnaire, answers: Mapping[str, Any] | str | None = None) -> None:
        self.questionnaire = questionnaire
        self.controls: dict[str, widgets.Widget | dict[str, widgets.Checkbox]] = {}
        self._callbacks: list[Callable[[dict[str, AnswerValue]], None]] = []
        rows = [self._row(q) for q in questionnaire.questions]
        self.widget = widgets.VBox(rows, layout=_FULL_WIDTH)
        self.set_answers(answers)

    def _row(self, q: Question) -> widgets.Widget:
        cites = f" <small>({html.escape(q.cites)})</small>" if q.cites else ""
        helptext = f"<br><small><i>{html.escape(q.help)}</i></small>" if q.help else ""
        label = widgets.HTML(f"<b>{html.escape(q.text)}</b>{cites}{helptext}", layout=_FULL_WIDTH)
        if q.kind is QuestionKind.yes_no:
            control = widgets.Checkbox(description="Yes", indent=False)
            children = [control]
        elif q.kind is QuestionKind.single:
            control = widgets.RadioButtons(options=[(o.label, o.id) for o in q.options], layout=_FULL_WIDTH)
            children = [control]
        else:
            control = {o.id: widgets.Checkbox(description=o.label, indent=False, layout=_FULL_WIDTH) for o in q.options}
            children = list(control.values())
        for child in children:
            child.observe(self._changed, names="value")
        self.controls[q.id] = control
        return widgets.VBox([label, *children], layout=widgets.Layout(margin="0 0 12px 0", width="100%"))

    @property
    def answers(self) -> dict[str, AnswerValue]:
        out: dict[str, AnswerValue] = {}
        for q in self.questionnaire.questions:
            control = self.controls[q.id]
            out[q.id] = [oid for oid, box in control.items() if box.value] if isinstance(control, dict) else control.value
        return out

    def set_answers(self, answers: Mapping[str, Any] | str | None) -> None:
        """Validated against the questionnaire first, so a bad ANSWERS parameter fails before any widget changes."""
        complete = self.questionnaire.complete_answers(answers)
        callbacks, self._callbacks = self._callbacks, []  # one notification, not one per control
        try:
            for qid, value in complete.items():
                control = self.controls[qid]
                if isinstance(control, dict):
                    for oid, box in control.items():
                        box.value = oid in value
                else:
                    control.value = value
        finally:
            self._callbacks = callbacks
        self._notify()

    def on_change(self, callback: Callable[[dict[str, AnswerValue]], None]) -> None:
        self._callbacks.append(callback)

    def _changed(self, _change: dict) -> None:
        self._notify()

    def _notify(self) -> None:
        answers = self.answers
        for callback in self._callbacks:
            callback(answers)
