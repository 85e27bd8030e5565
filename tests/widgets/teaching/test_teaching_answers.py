"""Canonical answer forms and their salted digests (aifnb_widgets.teaching.answers)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import torch

from aifnb_widgets.teaching.answers import COMPUTED, AnswerForm, canonical, digest


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("text", " Scratch ", "scratch"),
        ("text", "cuda : 0", "CUDA:0"),
        ("number", 30, 30.0),
        ("number", np.int64(12), 12),
        ("number", torch.tensor(15.0), 15),
        ("bool", np.bool_(False), False),
        ("set", {0, 1, 2}, [2, 1, 0, 1]),
        ("set", {"Religion", "health_condition"}, ["health_condition", "religion"]),
        ("sequence", (3, 8), [3, 8]),
        ("date", dt.date(2025, 8, 2), "2025-08-02"),
    ],
    ids=[
        "text-space-case",
        "text-inner-space",
        "int-float",
        "numpy-int",
        "torch-scalar",
        "numpy-bool",
        "set-list",
        "set-text",
        "tuple-list",
        "date-iso",
    ],
)
def test_equivalent_answers_share_a_canonical_form(kind, a, b):
    """Answers a learner (or papermill's JSON) may write differently read the same."""
    assert canonical(kind, a) == canonical(kind, b)


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [("number", 30, 30.5), ("sequence", (3, 8), (8, 3)), ("set", {1, 2}, {1, 2, 3}), ("text", "cuda", "cuda:1")],
    ids=["number", "order", "set", "text"],
)
def test_different_answers_differ(kind, a, b):
    """Order matters in a sequence, not in a set; numbers are not rounded together."""
    assert canonical(kind, a) != canonical(kind, b)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("text", 3),
        ("number", "30"),
        ("number", True),
        ("number", float("nan")),
        ("bool", 1),
        ("set", "ab"),
        ("sequence", {1, 2}),
        ("date", "2 August 2025"),
        ("date", dt.datetime(2025, 8, 2)),
        ("choice", 1.0),
    ],
    ids=[
        "text",
        "number-str",
        "number-bool",
        "nan",
        "bool-int",
        "set-str",
        "sequence-set",
        "date-words",
        "datetime",
        "choice-float",
    ],
)
def test_an_answer_of_the_wrong_form_says_which_form(kind, value):
    """A wrong form raises AnswerForm, whose message names the form asked for (never a value)."""
    with pytest.raises(AnswerForm):
        canonical(kind, value)


def test_prefixes_are_dropped_after_normalising():
    """'#SBATCH --gres=gpu:2' and '--gres=gpu:2' are one answer when the exercise drops '#sbatch'."""
    assert canonical("text", "#SBATCH --gres=gpu:2", ["#sbatch"]) == canonical("text", "--gres=gpu:2")


def test_digest_is_salted_by_course_and_item():
    """The same answer to two exercises gives two digests, so equal answers do not show."""
    assert digest("c", "a", "true") != digest("c", "b", "true") != digest("d", "a", "true")
    assert len(digest("c", "a", "true")) == 64


def test_computations():
    """The computed answers read the notebook's data as the exercises describe."""
    history = [{"epoch": 1, "test_loss": 0.9}, {"epoch": 2, "test_loss": 0.4}, {"epoch": 3, "test_loss": 0.5}]
    assert COMPUTED["best_epoch"](history=history) == 2
    runs = pd.DataFrame({"params.lr": ["0.1", "0.01"], "metrics.test_accuracy": [0.7, 0.9]})
    assert COMPUTED["best_learning_rate"](runs=runs) == 0.01
    table = pd.DataFrame({"category": ["Ageism", "Gender"], "pass_rate": [0.2, 0.8]})
    assert COMPUTED["lowest_pass_rate"](table=table) == "Ageism"
    assert COMPUTED["model_uri"](name="clf", version="3") == "models:/clf/3"
    assert COMPUTED["uniform_loss"](tokenizer=list(range(100))) == pytest.approx(4.60517, rel=1e-5)
    assert COMPUTED["token_count"](tokenizer=lambda text: {"input_ids": text.split()}, text="a b c") == 3
    people = pd.DataFrame({"age": [31, 34, 47, 52], "region": ["L-1", "L-1", "L-2", "L-2"]})
    banded = lambda df, band: df.assign(age=df["age"] // band * band)  # as the notebook's minimise does
    assert COMPUTED["k_with_bands"](raw=people, quasi=["age", "region"], band=10, minimise=banded) == 1
    assert COMPUTED["k_with_bands"](raw=people, quasi=["age", "region"], band=100, minimise=banded) == 2
