"""The quiz view driven headless: choose, press Check, read the feedback."""

from __future__ import annotations

import pytest

from aifnb_widgets.teaching.quiz import Quiz
from aifnb_widgets.teaching.spec import load_course
from aifnb_widgets.ui.quiz import QuizView
from tests.support.courses import course_answers

C1 = "01-working-on-the-ai-factory"


@pytest.fixture
def view(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    return QuizView(Quiz(load_course(C1)))


def test_check_is_disabled_until_an_option_is_chosen(view):
    """Nothing to check before a choice; choosing enables the button."""
    item = view.quiz.questions[0].item
    box = view.widget.children[1]
    button = box.children[2]
    assert button.disabled and view.choices[item].value is None
    view.choices[item].value = 0
    assert not button.disabled


def test_clicking_check_shows_the_options_explanation(view):
    """A click judges the chosen option and shows its explanation, marked right or not."""
    q = view.quiz.questions[0]
    right = course_answers()[C1][q.item]
    wrong = (right + 1) % len(q.options)
    view.choices[q.item].value = wrong
    view.widget.children[1].children[2].click()
    assert "Not this one" in view.feedback[q.item].value
    assert view.choose(q.item, right).correct
    assert "Right" in view.feedback[q.item].value and view.quiz.results[q.item]
