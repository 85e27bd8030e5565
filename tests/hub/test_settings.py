"""The settings file is validated as a whole before the hub starts, with errors naming the key."""

from __future__ import annotations

import pytest
import yaml

from aifnb_hub.settings import DEFAULT_SETTINGS, SettingsError, load_settings


def write(tmp_path, data) -> str:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_shipped_settings_load():
    """The embedded default validates: four role groups, three profiles, demo auth."""
    settings = load_settings()
    assert set(settings.groups) >= {"learners", "companies", "trainers", "admins"}
    assert [p.slug for p in settings.profiles] == ["cpu-course", "gpu-sandbox", "gpu-training"]
    assert settings.auth.mode == "demo"


def test_misspelt_key_is_named_with_its_path(tmp_path):
    """A typo anywhere stops start-up with the full path of the key."""
    with pytest.raises(SettingsError, match=r"culling\.timout: unknown key"):
        load_settings(write(tmp_path, {"culling": {"timout": 10}}))
    with pytest.raises(SettingsError, match=r"hub\.bind_ur: unknown key"):
        load_settings(write(tmp_path, {"hub": {"bind_ur": "x"}}))


def test_site_file_layers_over_defaults(tmp_path):
    """Mappings merge key by key; lists replace; everything else keeps its default."""
    settings = load_settings(write(tmp_path, {"hub": {"hub_port": 9999}, "groups": {"learners": {"users": ["ann"]}}}))
    assert settings.hub.hub_port == 9999
    assert settings.hub.bind_url == "http://127.0.0.1:8000"
    assert settings.groups["learners"].users == ("ann",)
    assert settings.groups["companies"].users == ("company1",)


@pytest.mark.parametrize(
    ("site", "message"),
    [
        ({"auth": {"mode": "oidc"}}, "auth.oidc section is missing"),
        ({"auth": {"mode": "ldap"}}, "auth.mode"),
        ({"groups": {"learners": {"users": ["Bad Name"]}}}, "groups.learners.users.0"),
        ({"profiles": [{**yaml.safe_load(DEFAULT_SETTINGS.read_text())["profiles"][0], "groups": ["nobody"]}]}, "unknown group"),
        ({"content": {"target_dir": "../etc"}}, "content.target_dir"),
    ],
    ids=["oidc-missing", "unknown-mode", "bad-username", "profile-unknown-group", "content-path"],
)
def test_invalid_values_are_refused(tmp_path, site, message):
    """Values outside the schema are refused before anything starts."""
    with pytest.raises(SettingsError, match=message):
        load_settings(write(tmp_path, site))
