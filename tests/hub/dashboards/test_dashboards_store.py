"""The versioned store: complete versions only, atomic replacement, refusals before writing."""

from __future__ import annotations

import hashlib
import json
import os
import threading

import pytest

from aifnb_hub.dashboards.store import DashboardStore, StoreError, slugify
from aifnb_hub.dashboards.thumbnail import title_card
from tests.hub.dashboards.conftest import slider_notebook

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def publish(store: DashboardStore, label: str = "v", **extra):
    args = {"slug": "demo", "title": "Demo", "author": "trainer1", "groups": ["learners"], **extra}
    return store.publish(slider_notebook(label), **args)


def test_publish_makes_a_private_version(tmp_path):
    """A version is complete, readable by the service, and closed to other local accounts."""
    store = DashboardStore(tmp_path / "store")
    dashboard = publish(store, service="Assess", sector="finance")
    folder = store.version_dir("demo", dashboard.version)
    assert "IntSlider" in "".join(json.loads((folder / "dashboard.ipynb").read_text())["cells"][0]["source"])
    assert (folder / "thumbnail.svg").read_text().startswith("<svg")
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "store", folder, folder / "dashboard.ipynb")}
    assert modes == {"store": 0o750, dashboard.version: 0o750, "dashboard.ipynb": 0o640}
    assert store.get("demo") == dashboard and dashboard.service.value == "Assess"
    assert [d.slug for d in store.all()] == ["demo"]


def test_owner_is_recorded_and_old_versions_belong_to_their_author(tmp_path):
    """A replacement keeps the owner it is given; meta.json written before owners existed is read as the author's."""
    store = DashboardStore(tmp_path)
    first = publish(store)
    assert first.owner == "trainer1"
    replaced = publish(store, "by admin", author="admin1", owner="trainer1")
    assert (replaced.author, replaced.owner) == ("admin1", "trainer1")
    meta = store.version_dir("demo", replaced.version) / "meta.json"
    old = json.loads(meta.read_text())
    del old["owner"]
    meta.write_text(json.dumps(old))
    assert store.get("demo").owner == "admin1"


def test_republish_swaps_the_link_and_keeps_the_old_version_until_retired(tmp_path):
    store = DashboardStore(tmp_path)
    old = publish(store, "old")
    new = publish(store, "new")
    assert store.get("demo").version == new.version != old.version
    assert store.version_dir("demo", old.version) is not None
    store.retire("demo", keep=set())
    assert store.version_dir("demo", old.version) is None
    assert store.version_dir("demo", new.version) is not None
    assert os.listdir(tmp_path / "staging") == []


def test_readers_never_see_a_partial_version(tmp_path):
    store = DashboardStore(tmp_path)
    publish(store, "0")
    seen, stop = [], threading.Event()

    def read():
        while not stop.is_set():
            current = store.get("demo")
            notebook = store.version_dir("demo", current.version) / "dashboard.ipynb"
            seen.append(current.sha256 == hashlib.sha256(notebook.read_bytes()).hexdigest())

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(30):
        publish(store, str(i))
    stop.set()
    reader.join()
    assert seen and all(seen)


def test_unpublish_removes_everything(tmp_path):
    store = DashboardStore(tmp_path)
    publish(store)
    assert store.unpublish("demo") and store.get("demo") is None and store.all() == []
    assert not store.unpublish("demo")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"groups": []}, "groups"),
        ({"title": ""}, "title"),
        ({"thumbnail": b"<svg onload='x'/>"}, "PNG or JPEG"),
    ],
)
def test_bad_requests_write_nothing(tmp_path, change, message):
    store = DashboardStore(tmp_path)
    with pytest.raises(StoreError, match=message):
        publish(store, **change)
    assert store.all() == [] and os.listdir(tmp_path / "staging") == []


def test_bad_notebook_is_refused(tmp_path):
    with pytest.raises(StoreError, match="not a valid notebook"):
        DashboardStore(tmp_path).publish(b'{"cells": 3}', slug="x", title="X", author="a", groups=["learners"])


def test_uploaded_thumbnail_is_kept(tmp_path):
    store = DashboardStore(tmp_path)
    dashboard = publish(store, thumbnail=PNG)
    assert (store.version_dir("demo", dashboard.version) / "thumbnail.png").read_bytes() == PNG


def test_slug_and_title_card():
    assert slugify("Assess: social bias (LLMs)!") == "assess-social-bias-llms"
    assert slugify("!!!") == "dashboard"
    card = title_card("<script>alert(1)</script> & more", "Assess")
    assert "<script>" not in card and "&lt;script&gt;" in card and "#8250df" in card
