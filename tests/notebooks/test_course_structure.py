"""Static checks of the upskilling courses (notebooks/courses): what every course promises a
learner. Fast (no execution), so not marked `notebooks`."""

from __future__ import annotations

import re

import nbformat
import pytest

from aifnb_hub.catalogue import Service, load_catalogue

CATALOGUE = load_catalogue()
COURSES = [e for e in CATALOGUE if e.path.startswith("courses/")]


def test_at_least_six_courses_all_upskill():
    assert len(COURSES) >= 6
    assert all(e.service is Service.UPSKILL for e in COURSES)


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
    assert code.count(".check(") >= len(exercises), "every exercise is checked in the notebook"
    assert markdown.count("<summary>Solution</summary>") >= 3
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
