"""Course checks (aifnb_widgets.teaching.course): hints not answers, explanations, progress."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from aifnb_widgets.teaching import Course, progress
from aifnb_widgets.teaching.spec import course_names, load_course
from tests.support.courses import course_answers

ANSWERS = course_answers()
C1 = "01-working-on-the-ai-factory"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Progress goes to a fresh home and never to a hub."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("JUPYTERHUB_API_URL", raising=False)
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    return tmp_path


def _hashed(course):
    return [e for e in load_course(course).exercises if e.accept]


def _shows(text: str, answer: object) -> bool:
    """Whether ``answer`` (or its solution code) appears in ``text`` as a whole token (3 is not found in 30)."""
    literal = answer["code"] if isinstance(answer, dict) else str(answer)
    return re.search(rf"(?<![\w.:-]){re.escape(literal)}(?![\w:-])", text, flags=re.I) is not None


def test_ci_answers_cover_every_item():
    """CI answers every exercise and question of every course, and names nothing else."""
    assert sorted(ANSWERS) == course_names()
    for course, answers in ANSWERS.items():
        spec = load_course(course)
        assert set(answers) == {e.item for e in spec.exercises} | {q.item for q in spec.quiz}, course


@pytest.mark.parametrize("course", course_names())
def test_ci_answers_to_hashed_exercises_are_judged_right(course):
    """The digests in the package accept the answers CI gives (computed ones are proven by the notebook runs)."""
    c = Course(course)
    for e in _hashed(course):
        assert c.judge(e.item, ANSWERS[course][e.item]), e.item


@pytest.mark.parametrize("course", course_names())
def test_a_wrong_try_prints_a_hint_and_no_expected_value(course, capsys):
    """Wrong tries (a wrong value, a wrong form) print the next hint, never the exercise's
    accepted answer nor its explanation."""
    c = Course(course)
    for e in _hashed(course):
        for wrong in ("not the answer", 123456789):
            assert c.check(e.item, wrong) is False
        out = capsys.readouterr().out
        assert e.hints[0] in out and e.hints[min(2, len(e.hints)) - 1] in out and e.explanation not in out
        answer = ANSWERS[course][e.item]
        assert isinstance(answer, bool) or not _shows(out, answer), (e.item, answer)


@pytest.mark.parametrize("course", course_names())
def test_hints_do_not_state_the_answer(course):
    """No hint of an exercise contains that exercise's answer."""
    for e in load_course(course).exercises:
        answer = ANSWERS[course][e.item]
        if not isinstance(answer, bool):
            assert not any(_shows(h, answer) for h in e.hints), e.item


def test_hints_advance_with_each_wrong_try_then_stay_on_the_last(capsys):
    """Try n shows hint n; after the last hint, the last one again."""
    c = Course(C1)
    hints = load_course(C1).exercise("device-name").hints
    shown = []
    for _ in range(len(hints) + 1):
        c.check("device-name", "tpu")
        shown.append(capsys.readouterr().out)
    assert [h in s for h, s in zip(hints, shown)] == [True] * len(hints)
    assert hints[-1] in shown[-1] and "try 3" in shown[-1]


def test_right_answer_explains_and_is_recorded(capsys):
    """A right answer prints the explanation and records passed=True; a wrong one passed=False."""
    c = Course(C1)
    assert c.check("time-limit", 29) is False
    assert c.check("time-limit", ANSWERS[C1]["time-limit"]) is True
    assert load_course(C1).exercise("time-limit").explanation in capsys.readouterr().out
    records = progress.read()
    assert [(r["course"], r["item"], r["kind"], r["passed"]) for r in records] == [
        (C1, "time-limit", "check", False),
        (C1, "time-limit", "check", True),
    ]
    assert c.metrics()["exercises_right"] == 1


def test_unanswered_is_neither_right_nor_wrong_nor_recorded(capsys):
    """`...` prints the first hint and records nothing: a notebook still runs top to bottom."""
    c = Course(C1)
    assert c.check("checkpoints", ...) is None
    assert "Not answered yet" in capsys.readouterr().out
    assert progress.read() == [] and c.right == 0


def test_wrong_form_names_the_form_asked_for(capsys):
    """A string where a number is asked is wrong, and the learner is told what form to give."""
    assert Course(C1).check("time-limit", "30 minutes") is False
    assert "should be a number" in capsys.readouterr().out


def test_answers_parameter_fills_only_unanswered_exercises(capsys):
    """ANSWERS stands in for `...`, says so, and never overrides what the learner typed."""
    c = Course(C1, answers={"checkpoints": ANSWERS[C1]["checkpoints"]})
    assert c.check("checkpoints", ...) is True
    assert "supplied by the ANSWERS parameter" in capsys.readouterr().out
    assert c.check("checkpoints", "home") is False
    with pytest.raises(ValueError, match="does not have"):
        Course(C1, answers={"no-such-item": 1})
    with pytest.raises(ValueError, match="has no exercise"):
        c.check("no-such-item", 1)


def test_computed_answer_is_compared_with_tolerance():
    """A computed exercise judges against the notebook's data, within its tolerance."""
    c = Course("02-deep-learning-with-pytorch")
    history = [{"epoch": 1, "test_loss": 0.5}, {"epoch": 2, "test_loss": 0.3}]
    assert c.check("best-epoch", 2, history=history) is True
    assert c.check("best-epoch", 2.0000000001, history=history) is True
    assert c.check("best-epoch", 1, history=history) is False
    assert c.check("best-epoch", "two", history=history) is False


def test_quiz_from_answers_records_and_prints_feedback(capsys):
    """The quiz answers the questions named in ANSWERS through its widget, and records each."""
    quiz_answers = {k: v for k, v in ANSWERS[C1].items() if k.startswith("quiz-")}
    c = Course(C1, answers=quiz_answers)
    c.quiz()
    out = capsys.readouterr().out
    assert out.count("✅ Right") == len(quiz_answers)
    assert c.metrics()["quiz_right"] == c.metrics()["quiz_total"] == len(quiz_answers)
    assert {(r["item"], r["kind"], r["passed"]) for r in progress.read()} == {(i, "quiz", True) for i in quiz_answers}


def test_engine_does_not_load_ipywidgets():
    """Checks and the quiz model work without ipywidgets; only Course.quiz() loads the view."""
    code = (
        "import sys; from aifnb_widgets.teaching import Course; from aifnb_widgets.teaching.quiz import Quiz;"
        "assert 'ipywidgets' not in sys.modules, 'ipywidgets loaded'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
