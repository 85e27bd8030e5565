"""Static checks of the upskilling courses (notebooks/courses): what every course promises a
learner. Fast (no execution), so not marked `notebooks`."""

from __future__ import annotations

import re

import nbformat
import pytest

from aifnb_hub.catalogue import Service, load_catalogue
from aifnb_widgets.teaching.spec import course_names, load_course
from tests.support.courses import course_answers

CATALOGUE = load_catalogue()
COURSES = [e for e in CATALOGUE if e.path.startswith("courses/")]
ANSWERS = course_answers()


def _name(entry) -> str:
    return entry.path.removeprefix("courses/").removesuffix(".ipynb")


def test_at_least_six_courses_all_upskill():
    assert len(COURSES) >= 6
    assert all(e.service is Service.UPSKILL for e in COURSES)


def test_every_course_has_its_checks_and_quiz_in_the_package():
    """Each catalogued course has a course YAML, and the package declares no other course."""
    assert sorted(_name(e) for e in COURSES) == course_names()


@pytest.mark.parametrize("entry", COURSES, ids=lambda e: e.path)
def test_course_has_objectives_prerequisites_time_exercises_and_summary(entry):
    nb = nbformat.read(CATALOGUE.file(entry), as_version=4)
    intro = nb.cells[0]
    assert intro.cell_type == "markdown" and intro.source.startswith("# ")
    for needle in ("Learning objectives", "Prerequisites", "Time"):
        assert needle in intro.source, f"the first cell should state {needle!r}"
    assert re.search(r"\*\*Time:\*\* about \d+ minutes", intro.source)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "## Summary" in markdown
    exercises = re.findall(r"^answer_\w+ = ", code, flags=re.M)
    assert len(exercises) >= 3, "a course has at least three exercises"
    assert code.count("course.check(") >= len(exercises), "every exercise is checked in the notebook"
    last_code = [c for c in nb.cells if c.cell_type == "code"][-1].source
    assert "assert " in last_code and "write_metrics(METRICS_PATH" in last_code
    assert "plotly" in code, "charts are drawn with plotly"


@pytest.mark.parametrize("entry", COURSES, ids=lambda e: e.path)
def test_unanswered_exercises_are_left_for_the_learner(entry):
    """Exercises ship unanswered (`...`): a course is not an answer key."""
    nb = nbformat.read(CATALOGUE.file(entry), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    answers = re.findall(r"^(answer_\w+) = (.*)$", code, flags=re.M)
    assert answers and all(v.strip() in {"...", "{"} for _, v in answers), answers


def _shows(text: str, answer: object) -> bool:
    """Whether ``answer`` (or its solution code) appears in ``text`` as a whole token (3 is not in 30)."""
    literal = answer["code"] if isinstance(answer, dict) else repr(answer) if isinstance(answer, bool) else str(answer)
    return re.search(rf"(?<![\w.:-]){re.escape(literal)}(?![\w:-])", text, flags=re.I) is not None


@pytest.mark.parametrize("entry", COURSES, ids=lambda e: e.path)
def test_exercises_are_checked_by_the_package_and_the_course_ends_with_a_quiz(entry):
    """The notebook checks exactly the exercises its course YAML declares, takes ANSWERS as a
    parameter, and ends with the quiz, after the summary and before the final self-check."""
    nb = nbformat.read(CATALOGUE.file(entry), as_version=4)
    spec = load_course(_name(entry))
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert f'course = Course("{spec.course}", answers=ANSWERS)' in code
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert re.search(r"^ANSWERS = \{\}$", params.source, flags=re.M)
    assert [e.item for e in spec.exercises if f'"{e.item}"' not in code] == [], "an exercise the notebook never checks"
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines() if line.startswith("## ")]
    assert headings[-2:] == ["## Summary", "## Quiz"], headings
    codes = [c for c in nb.cells if c.cell_type == "code"]
    assert codes[-2].source.strip() == "course.quiz()", "the quiz is the course's last step before its self-check"
    assert "**course.metrics()" in codes[-1].source


@pytest.mark.parametrize("entry", COURSES, ids=lambda e: e.path)
def test_no_answer_in_the_notebook(entry):
    """No exercise cell, nor the cell shown under it, states its answer; no folded
    solutions; no stored outputs (where a run would show them)."""
    nb = nbformat.read(CATALOGUE.file(entry), as_version=4)
    spec = load_course(_name(entry))
    answers = ANSWERS[spec.course]
    assert not any("<summary>Solution" in c.source for c in nb.cells)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "outputs are stripped"
    for i, cell in enumerate(nb.cells):
        for e in spec.exercises:
            if f'"{e.item}"' not in cell.source:
                continue
            answer = answers[e.item]
            # The question before may list the choices; the cell itself and the one shown under it
            # (where folded solutions used to sit) must not give the answer.
            near = [cell] if isinstance(answer, bool) else nb.cells[i : i + 2]
            assert not any(_shows(c.source, answer) for c in near), f"{e.item}: {answer!r} appears next to the exercise"
