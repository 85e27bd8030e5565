"""The quiz model (aifnb_widgets.teaching.quiz): every option explains itself; answers are recorded."""

from __future__ import annotations

import pytest

from aifnb_widgets.teaching import progress
from aifnb_widgets.teaching.quiz import Quiz
from aifnb_widgets.teaching.spec import load_course
from tests.support.courses import course_answers

C1 = "01-working-on-the-ai-factory"


@pytest.fixture
def quiz(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    return Quiz(load_course(C1))


def test_each_option_gives_its_own_explanation_and_one_is_right(quiz):
    """Every option of every question returns its explanation; exactly the CI answer is right."""
    right = course_answers()[C1]
    for q in quiz.questions:
        outcomes = [quiz.answer(q.item, i) for i in range(len(q.options))]
        assert [f.explanation for f in outcomes] == [o.explanation for o in q.options]
        assert [f.correct for f in outcomes] == [i == right[q.item] for i in range(len(q.options))]
    assert quiz.results[q.item] is (len(q.options) - 1 == right[q.item])


def test_answers_are_recorded_as_quiz_results(quiz):
    """Each answer is one progress record of kind quiz."""
    q = quiz.questions[0]
    quiz.answer(q.item, 0)
    [entry] = progress.read()
    assert (entry["course"], entry["item"], entry["kind"]) == (C1, q.item, "quiz")


@pytest.mark.parametrize("choice", [-1, 99, True, "1"], ids=["negative", "too-large", "bool", "str"])
def test_a_choice_outside_the_options_is_refused(quiz, choice):
    """Only an option's index is an answer."""
    with pytest.raises(ValueError, match="option index"):
        quiz.answer(quiz.questions[0].item, choice)
    assert progress.read() == []
