"""Pseudonymisation, k-anonymity, synthetic data, licences and data cards of course 6."""

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from aifnb_widgets.teaching.privacy import (
    DataCard,
    k_anonymity,
    l_diversity,
    licence,
    make_key,
    plain_hash,
    pseudonymise,
    suppress_small_groups,
    synthetic_customers,
)


@settings(max_examples=50, deadline=None)
@given(value=st.text(min_size=1, max_size=40))
def test_pseudonyms_are_stable_per_key_and_differ_across_keys(value):
    k1, k2 = b"k" * 32, b"j" * 32
    assert pseudonymise(value, k1) == pseudonymise(value, k1)
    assert pseudonymise(value, k1) != pseudonymise(value, k2)
    assert pseudonymise(value, k1) != plain_hash(value)


def test_normalisation_and_arguments():
    key = make_key()
    assert len(key) == 32 and make_key() != key
    assert pseudonymise(" Anna@Example.org ", key) == pseudonymise("anna@example.org", key)
    assert len(pseudonymise("x", key, length=24)) == 24
    with pytest.raises(ValueError):
        pseudonymise("x", b"")
    with pytest.raises(ValueError):
        make_key(8)
    with pytest.raises(ValueError):
        pseudonymise("x", key, length=4)


def test_k_anonymity():
    df = pd.DataFrame({"a": [1, 1, 2, 2, 2], "b": ["x", "x", "y", "y", "y"]})
    assert k_anonymity(df, ["a", "b"]) == 2
    assert k_anonymity(df.iloc[:0], ["a"]) == 0
    with pytest.raises(KeyError):
        k_anonymity(df, ["c"])


def test_synthetic_customers():
    df = synthetic_customers(100, seed=2)
    assert len(df) == 100 and df["customer_id"].is_unique and df["email"].is_unique
    assert set(df["defaulted"]) == {0, 1}
    assert df.equals(synthetic_customers(100, seed=2))
    with pytest.raises(ValueError):
        synthetic_customers(0)


def test_licences():
    assert licence("CC-BY-4.0").commercial_use and licence("CC-BY-4.0").attribution
    assert not licence("CC-BY-NC-4.0").commercial_use
    assert licence("CC-BY-SA-4.0").share_alike
    with pytest.raises(KeyError, match="all rights reserved"):
        licence("custom-licence")


def test_data_card():
    card = DataCard(
        name="t",
        description="d",
        source="generated",
        licence="CC0-1.0",
        created="2026-01-01",
        rows=3,
        columns={"a": "A"},
        personal_data=True,
        special_categories=["health_condition"],
        k_anonymity=5,
    )
    md = card.to_markdown()
    assert "# Data card: t" in md and "| a | A |" in md and "health_condition" in md and "k-anonymity: 5" in md
    assert json.loads(card.to_json())["rows"] == 3
    with pytest.raises(ValidationError):
        DataCard(
            name="t", description="d", source="s", licence="l", created="c", rows=1, columns={}, personal_data=False, colour="x"
        )


def test_a_k_anonymous_group_can_still_disclose_its_sensitive_value():
    """Homogeneity attack: k = 3 but every member of a group shares the diagnosis, so l = 1."""
    df = pd.DataFrame(
        {"age": ["30-39"] * 3 + ["40-49"] * 3, "zip": ["L-1"] * 6, "diag": ["flu", "flu", "flu", "flu", "cold", "hiv"]}
    )
    assert k_anonymity(df, ["age", "zip"]) == 3
    assert l_diversity(df, ["age", "zip"], "diag") == 1
    assert l_diversity(df[df["age"] == "40-49"], ["age", "zip"], "diag") == 3


def test_suppression_makes_the_rest_k_anonymous():
    """Rows of groups smaller than k are dropped; groups at or above k are kept whole."""
    df = pd.DataFrame({"q": ["a"] * 5 + ["b"] * 2 + ["c"]})
    kept = suppress_small_groups(df, ["q"], 3)
    assert list(kept["q"]) == ["a"] * 5 and k_anonymity(kept, ["q"]) == 5
    with pytest.raises(ValueError):
        suppress_small_groups(df, ["q"], 0)
    with pytest.raises(KeyError):
        l_diversity(df, ["q"], "nope")
