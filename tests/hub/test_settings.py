"""The settings file is validated as a whole before the hub starts, with errors naming the key."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from aifnb_hub.settings import DEFAULT_SETTINGS, HubSection, SettingsError, load_settings


def write(tmp_path, data) -> str:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_shipped_settings_load():
    """The embedded default validates: four role groups, three profiles, and no login chosen."""
    settings = load_settings()
    assert set(settings.groups) >= {"learners", "companies", "trainers", "admins"}
    assert [p.slug for p in settings.profiles] == ["cpu-course", "gpu-sandbox", "gpu-training"]
    assert settings.auth.mode is None and settings.auth.demo is None


def test_demo_site_file_sets_demo_login():
    """demo.yaml (the demo script's site file) chooses demo login on the default loopback URL."""
    settings = load_settings(DEFAULT_SETTINGS.with_name("demo.yaml"))
    assert settings.auth.mode == "demo" and settings.hub.bind_url == "http://127.0.0.1:8000"


DEMO = {"mode": "demo", "demo": {"password": "long-enough"}}


@pytest.mark.parametrize(
    "bind_url",
    ["http://127.0.0.1:8000", "http://127.9.0.3:8000", "http://[::1]:8000", "http://localhost:8000"],
    ids=["127.0.0.1", "127/8", "ipv6", "localhost"],
)
def test_demo_login_starts_on_loopback(tmp_path, bind_url):
    """Demo login is accepted on every loopback bind_url."""
    settings = load_settings(write(tmp_path, {"hub": {"bind_url": bind_url}, "auth": DEMO}))
    assert settings.auth.mode == "demo"


@pytest.mark.parametrize(
    "bind_url",
    ["http://0.0.0.0:8000", "https://notebooks.factory.example", "http://10.1.2.3:8000", "http://:8000"],
    ids=["all-interfaces", "public-name", "private-ip", "no-host"],
)
def test_demo_login_elsewhere_needs_the_acknowledgement(tmp_path, bind_url):
    """Demo login on a non-loopback bind_url is refused, naming the key that accepts the risk."""
    with pytest.raises(SettingsError, match=r"auth\.demo\.allow_non_loopback"):
        load_settings(write(tmp_path, {"hub": {"bind_url": bind_url}, "auth": DEMO}))
    acknowledged = {**DEMO, "demo": {**DEMO["demo"], "allow_non_loopback": True}}
    assert load_settings(write(tmp_path, {"hub": {"bind_url": bind_url}, "auth": acknowledged})).auth.mode == "demo"


def test_oidc_group_settings_are_checked(tmp_path):
    """Extra allowed groups must be group names; refresh_age must be positive."""
    oidc = {"client_id": "hub", "authorize_url": "a", "token_url": "t", "userdata_url": "u", "callback_url": "c"}
    with pytest.raises(SettingsError, match=r"auth\.oidc\.allowed_groups\.0"):
        load_settings(write(tmp_path, {"auth": {"mode": "oidc", "oidc": {**oidc, "allowed_groups": ["/Bad"]}}}))
    with pytest.raises(SettingsError, match=r"auth\.oidc\.refresh_age"):
        load_settings(write(tmp_path, {"auth": {"mode": "oidc", "oidc": {**oidc, "refresh_age": 0}}}))


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


@pytest.mark.parametrize(
    ("db_url", "error"),
    [
        ("postgresql://hub:secret@db.cluster/jupyterhub", "holds a password"),
        ("mysql://hub@db/jupyterhub", "must be postgresql://"),
        ("postgresql://hub@db/jupyterhub\n", "must be postgresql://"),
    ],
    ids=["password-in-file", "other-database", "trailing-newline"],
)
def test_db_url_takes_no_password_and_only_postgresql_or_sqlite(db_url, error):
    """The hub database URL names PostgreSQL or SQLite and never carries a password (PGPASSWORD does)."""
    with pytest.raises(ValidationError, match=error):
        HubSection(db_url=db_url)
    assert HubSection(db_url="postgresql://hub@db.cluster:5432/jupyterhub").db_url.startswith("postgresql://hub@")
