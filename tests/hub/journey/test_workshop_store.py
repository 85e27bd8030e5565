"""Workshops declared on the hub: one file, validated on read, bounded."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from aifnb_hub.journey import workshops as store_module
from aifnb_hub.journey.workshops import WorkshopStore
from aifnb_slurm.profiles import Workshop

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def workshop(slug: str) -> Workshop:
    return Workshop(slug=slug, title="T", group="learners", start=NOW, end=NOW + timedelta(hours=1), profile="cpu-course")


def test_add_and_remove_round_trip(tmp_path):
    """Added workshops read back in order; removing an unknown slug says so."""
    store = WorkshopStore(tmp_path / "hub" / "workshops.json")
    store.add(workshop("a"))
    store.add(workshop("b"))
    assert [w.slug for w in store.all()] == ["a", "b"]
    assert store.remove("a") and not store.remove("zzz")
    assert [w.slug for w in store.all()] == ["b"]


def test_a_tampered_file_is_refused_on_read(tmp_path):
    """A record outside the schema (a reservation with shell syntax) fails when read, naming the field."""
    path = tmp_path / "workshops.json"
    path.write_text(json.dumps([{**workshop("a").model_dump(mode="json"), "reservation": "x;reboot"}]))
    with pytest.raises(ValidationError, match="reservation"):
        WorkshopStore(path).all()


def test_the_number_of_declared_workshops_is_bounded(tmp_path, monkeypatch):
    """Past the cap, adding asks for old ones to be deleted."""
    monkeypatch.setattr(store_module, "MAX_WORKSHOPS", 2)
    store = WorkshopStore(tmp_path / "workshops.json")
    store.add(workshop("a"))
    store.add(workshop("b"))
    with pytest.raises(ValueError, match="at most 2"):
        store.add(workshop("c"))
