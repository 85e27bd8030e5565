"""The quiz as ipywidgets: per question, radio buttons, a Check button and the explanation.

A thin view over :class:`aifnb_widgets.teaching.quiz.Quiz`, which judges and records; tests and
headless runs drive it with :meth:`QuizView.choose`, the same path a click takes.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from aifnb_widgets.teaching.quiz import Feedback, Quiz

__all__ = ["QuizView"]


class QuizView:
    """One box per question; :attr:`widget` is what a notebook displays."""

    def __init__(self, quiz: Quiz) -> None:
        self.quiz = quiz
        self.choices: dict[str, widgets.RadioButtons] = {}
        self.feedback: dict[str, widgets.HTML] = {}
        boxes = []
        for number, q in enumerate(quiz.questions, start=1):
            radio = widgets.RadioButtons(
                options=[(o.text, i) for i, o in enumerate(q.options)],
                value=None,
                layout=widgets.Layout(width="auto"),
            )
            button = widgets.Button(description="Check", tooltip="Check this answer", disabled=True)
            radio.observe(lambda change, b=button: setattr(b, "disabled", change["new"] is None), names="value")
            button.on_click(lambda _, item=q.item: self._check(item))
            self.choices[q.item] = radio
            self.feedback[q.item] = widgets.HTML()
            title = widgets.HTML(f"<b>{number}. {html.escape(q.question)}</b>")
            boxes.append(widgets.VBox([title, radio, button, self.feedback[q.item]]))
        self.widget = widgets.VBox([widgets.HTML("<h4>Quiz</h4>"), *boxes])

    def _check(self, item: str) -> Feedback:
        result = self.quiz.answer(item, self.choices[item].value)
        colour = "#2aa198" if result.correct else "#dc322f"
        self.feedback[item].value = f'<span style="color:{colour}">{html.escape(result.text())}</span>'
        return result

    def choose(self, item: str, choice: int) -> Feedback:
        """Select option ``choice`` of ``item`` and press Check, as a learner would."""
        self.choices[item].value = choice
        return self._check(item)
