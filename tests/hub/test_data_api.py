"""The hub's side of the data catalogue without a running hub: what stops it at start, and the routes it serves."""

from __future__ import annotations

import grp
import os

import pytest
import yaml
from traitlets.config import Config

from aifnb_hub.data_api import apply_data_catalogue, load_data_catalogue
from aifnb_hub.settings import Settings, SettingsError, load_settings
from tests.data.conftest import entry


@pytest.fixture
def own_group() -> str:
    """This process's Unix group: files it creates belong to it without chown."""
    return grp.getgrgid(os.getegid()).gr_name


def _settings(tmp_path, entries, own_group=None) -> Settings:
    root = tmp_path / "data"
    root.mkdir(exist_ok=True)
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text(yaml.safe_dump({"root": str(root), "entries": entries}))
    raw = load_settings().model_dump(mode="json")
    raw["data_catalogue"] = {"files": [str(catalogue)], "roots": [str(root)], "access_log": str(tmp_path / "log.jsonl")}
    if own_group:
        raw["groups"]["learners"]["unix_group"] = own_group
    return Settings.model_validate(raw)


def test_a_valid_catalogue_is_served_on_three_routes(tmp_path, own_group):
    """A closed file of its group's Unix group passes, and the hub serves list, show and access."""
    settings = _settings(tmp_path, [entry("iris") | {"groups": ["learners"], "unix_group": None}], own_group)
    (tmp_path / "data" / "iris.csv").write_text("a\n1\n")
    (tmp_path / "data" / "iris.csv").chmod(0o640)
    catalogue = load_data_catalogue(settings)
    c = Config()
    apply_data_catalogue(c, settings, catalogue)
    routes = [route for route, *_ in c.JupyterHub.extra_handlers]
    assert routes == [r"/api/aifnb/data", r"/api/aifnb/data/([^/]+)", r"/api/aifnb/data/([^/]+)/access"]
    options = c.JupyterHub.extra_handlers[2][2]
    assert options["unix_groups"]["learners"] == own_group and options["access_log"] == str(tmp_path / "log.jsonl")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"groups": ["partners"]}, "entry 'iris': groups: unknown group(s) partners"),
        ({"path": "missing.csv"}, "entry 'iris': " + "{root}/missing.csv does not exist"),
        ({"licence": None}, "entry 'iris': licence:"),
    ],
    ids=["unknown-group", "missing-file", "null-licence"],
)
def test_what_stops_the_hub(tmp_path, change, message):
    """Each problem is a SettingsError naming the entry, so jupyterhub_config.py stops the hub with it."""
    settings = _settings(tmp_path, [entry("iris") | change])
    with pytest.raises(SettingsError) as stopped:
        load_data_catalogue(settings)
    assert message.format(root=tmp_path / "data") in str(stopped.value)


def test_no_catalogue_is_an_empty_one():
    """The embedded default names no catalogue files: the hub starts and lists nothing."""
    assert len(load_data_catalogue(load_settings())) == 0
