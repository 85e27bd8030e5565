"""Course YAMLs (aifnb_widgets.teaching.spec): every shipped one loads, bad ones fail by name."""

from __future__ import annotations

import copy

import pytest
import yaml
from pydantic import ValidationError

from aifnb_widgets.teaching.answers import digest
from aifnb_widgets.teaching.spec import COURSES_DIR, course_names, load_course


@pytest.mark.parametrize("course", course_names())
def test_every_shipped_course_loads(course):
    """Each YAML validates: one source of truth per exercise, exactly one right option per question."""
    spec = load_course(course)
    assert spec.course == course and len(spec.quiz) >= 3


@pytest.fixture
def source():
    course = "01-working-on-the-ai-factory"
    return copy.deepcopy(yaml.safe_load((COURSES_DIR / f"{course}.yaml").read_text()))


def _fails(source, match):
    with pytest.raises((ValidationError, ValueError), match=match):
        load_course(source["course"], source=source)


def test_unknown_key_is_refused(source):
    """A misspelt key fails at load, with its name."""
    source["exercises"][0]["hint"] = "typo"
    _fails(source, "hint")


def test_an_exercise_has_exactly_one_source_of_truth(source):
    """accept and compute together, or neither, is refused."""
    source["exercises"][0]["compute"] = "best_epoch"
    _fails(source, "either accept")
    del source["exercises"][0]["compute"]
    source["exercises"][0]["accept"] = []
    _fails(source, "either accept")


def test_unknown_computation_is_refused(source):
    """compute names one of the package's functions."""
    exercise = source["exercises"][0]
    exercise.pop("accept")
    exercise["compute"] = "os.system"
    _fails(source, "not one of")


def test_quiz_answer_must_match_one_option(source):
    """A question whose digest matches no option (a wrong salt, a removed option) is refused."""
    source["quiz"][0]["answer"] = digest("another-course", source["quiz"][0]["item"], "0")
    _fails(source, "matches no option")


def test_items_are_unique_and_named_like_progress_items(source):
    """Progress records need unique, well-formed item names."""
    source["quiz"][0]["item"] = source["exercises"][0]["item"]
    _fails(source, "named twice")
    source["quiz"][0]["item"] = "Has Space"
    _fails(source, "pattern")


def test_file_must_declare_its_own_course(source):
    """courses/X.yaml declares course X."""
    with pytest.raises(ValueError, match="declares course"):
        load_course("02-other", source=source)
    with pytest.raises(ValueError, match="no course"):
        load_course("../etc/passwd")
