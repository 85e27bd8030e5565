"""Parameters are checked against the notebook's parameters cell before anything is submitted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aifnb_widgets.batch.params import ParameterError, check_parameters, declared_parameters, load_sweep, parse_value
from tests.widgets.batch.conftest import DOUBLE_PARAMETERS, write_notebook

DECLARED = {"X": 1, "RATE": 0.5, "NAME": "run", "VERBOSE": False, "SIZES": [1, 2], "MODEL": None}
SAMPLES = {
    int: st.integers(),
    float: st.floats(allow_nan=False),
    str: st.text(max_size=20),
    bool: st.booleans(),
    list: st.lists(st.integers(), max_size=3),
}


def test_declared_parameters_are_the_literals_of_the_tagged_cell(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", DOUBLE_PARAMETERS + "\nMODEL = make()\nTYPED: int = 3", "X = 99")
    assert declared_parameters(path) == {
        "X": 1,
        "RATE": 0.5,
        "NAME": "run",
        "VERBOSE": False,
        "SIZES": [1, 2],
        "OUT": "doubled.txt",
        "MODEL": None,
        "TYPED": 3,
    }


def test_a_notebook_without_parameters_cell_declares_nothing(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", "")
    assert declared_parameters(path) == {}
    with pytest.raises(ParameterError, match="^X: .*declared: none"):
        check_parameters({}, {"X": 1})


def test_unknown_name_is_refused_naming_it():
    with pytest.raises(ParameterError) as info:
        check_parameters(DECLARED, {"X": 2, "EPOCHS": 3})
    assert info.value.field == "EPOCHS"
    assert "does not declare" in str(info.value)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("X", "2", "int"),
        ("X", 2.5, "int"),
        ("X", True, "int"),
        ("RATE", "0.1", "float"),
        ("NAME", 3, "str"),
        ("VERBOSE", 1, "bool"),
        ("SIZES", "1,2", "list"),
        ("RATE", False, "float"),
    ],
)
def test_wrong_type_is_refused_naming_parameter_and_expected_type(name, value, expected):
    with pytest.raises(ParameterError) as info:
        check_parameters(DECLARED, {name: value})
    assert info.value.field == name
    assert f"expected {expected}" in str(info.value)


def test_int_is_accepted_for_float_and_tuples_become_lists():
    assert check_parameters(DECLARED, {"RATE": 1, "SIZES": (3, 4), "MODEL": "any"}) == {
        "RATE": 1,
        "SIZES": [3, 4],
        "MODEL": "any",
    }


@given(
    st.sampled_from(["X", "RATE", "NAME", "VERBOSE", "SIZES"]).flatmap(
        lambda n: st.tuples(st.just(n), st.sampled_from(list(SAMPLES)).flatmap(lambda t: st.tuples(st.just(t), SAMPLES[t])))
    )
)
def test_a_value_passes_exactly_when_its_type_matches_the_literal(case):
    name, (kind, value) = case
    declared_kind = type(DECLARED[name])
    ok = kind is declared_kind or (declared_kind is float and kind is int)
    if ok:
        assert check_parameters(DECLARED, {name: value}) == {name: value}
    else:
        with pytest.raises(ParameterError, match=f"^{name}: expected {declared_kind.__name__}"):
            check_parameters(DECLARED, {name: value})


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("X", "3", 3),
        ("RATE", "0.25", 0.25),
        ("NAME", "3", "3"),
        ("VERBOSE", "true", True),
        ("SIZES", "[4, 5]", [4, 5]),
        ("NOPE", "1", "1"),
    ],
)
def test_command_line_text_is_read_as_the_declared_type(name, text, value):
    assert parse_value(DECLARED, name, text) == value


def test_sweep_files_list_or_grid(tmp_path):
    listed = tmp_path / "list.yaml"
    listed.write_text("- {X: 1}\n- {X: 2, NAME: b}\n")
    assert load_sweep(listed) == [{"X": 1}, {"X": 2, "NAME": "b"}]
    grid = tmp_path / "grid.yaml"
    grid.write_text("X: [1, 2]\nRATE: [0.1, 0.2]\n")
    assert load_sweep(grid) == [{"X": 1, "RATE": 0.1}, {"X": 1, "RATE": 0.2}, {"X": 2, "RATE": 0.1}, {"X": 2, "RATE": 0.2}]
    bad = tmp_path / "bad.yaml"
    bad.write_text("X: 1\n")
    with pytest.raises(ParameterError, match="^sweep: "):
        load_sweep(bad)
