"""Settings become JupyterHub configuration through small functions, each checked on a plain Config."""

from __future__ import annotations

import re

import pytest
from traitlets.config import Config

from aifnb_hub import apply
from aifnb_hub.settings import SettingsError, load_settings
from aifnb_slurm.validate import USERNAME, anchored
from tests.hub.test_settings import write

OIDC = {
    "auth": {
        "mode": "oidc",
        "oidc": {
            "client_id": "jupyterhub",
            "authorize_url": "https://sso.example/auth",
            "token_url": "https://sso.example/token",
            "userdata_url": "https://sso.example/userinfo",
            "callback_url": "https://hub.example/hub/oauth_callback",
        },
    }
}


DEMO = {"auth": {"mode": "demo", "demo": {"password": "long-enough"}}}


def test_no_login_is_chosen_by_default():
    """Without auth.mode in a site file the hub has no login: apply_auth stops, naming the key."""
    with pytest.raises(SettingsError, match=r"auth\.mode: not set"):
        apply.apply_auth(Config(), load_settings())


def test_demo_auth_allows_only_listed_users_and_never_all(tmp_path):
    """Demo mode: shared password, the settings' users allowed, allow_all off, groups loaded."""
    c = Config()
    apply.apply_auth(c, load_settings(write(tmp_path, DEMO)))
    assert c.JupyterHub.authenticator_class == "aifnb_hub.auth.DemoAuthenticator"
    assert c.SharedPasswordAuthenticator.user_password == "long-enough"
    assert c.Authenticator.allow_all is False
    assert c.Authenticator.allowed_users == {"learner1", "company1", "trainer1", "admin1"}
    assert c.JupyterHub.load_groups["companies"] == {"users": ["company1"]}


def test_username_pattern_is_the_shared_one_anchored():
    """JupyterHub's username_pattern is validate.USERNAME anchored: no trailing newline slips through."""
    c = Config()
    with pytest.raises(SettingsError):
        apply.apply_auth(c, load_settings())
    pattern = c.Authenticator.username_pattern
    assert pattern == anchored(USERNAME)
    assert re.match(pattern, "alice") and not re.match(pattern, "alice\n") and not re.match(pattern, "Alice")


def test_oidc_takes_groups_from_the_identity_provider(tmp_path):
    """OIDC mode: secret from the environment, groups managed by the authenticator, never load_groups."""
    settings = load_settings(write(tmp_path, {**OIDC, "hub": {"data_dir": str(tmp_path / "data")}}))
    c = Config()
    apply.apply_auth(c, settings, environ={"AIFNB_OIDC_CLIENT_SECRET": "s3cret"})
    a = c.FactoryOIDCAuthenticator
    assert c.JupyterHub.authenticator_class == "aifnb_hub.auth.FactoryOIDCAuthenticator"
    assert a.client_secret == "s3cret"
    assert a.manage_groups is True and "load_groups" not in c.JupyterHub
    assert a.admin_groups == {"admins"}
    assert a.enable_auth_state is True and a.auth_refresh_strict is True and a.auth_refresh_age == 300
    assert c.Authenticator.allow_all is False


def test_oidc_allows_the_platform_groups_and_the_listed_ones_only(tmp_path):
    """A group the site adds to groups: lets no one in unless auth.oidc.allowed_groups lists it."""
    site = {
        **OIDC,
        "hub": {"data_dir": str(tmp_path / "data")},
        "groups": {"visitors": {}, "partners": {}},
    }
    site["auth"] = {**OIDC["auth"], "oidc": {**OIDC["auth"]["oidc"], "allowed_groups": ["partners"], "strip_group_prefix": "/"}}
    c = Config()
    apply.apply_auth(c, load_settings(write(tmp_path, site)), environ={"AIFNB_OIDC_CLIENT_SECRET": "s3cret"})
    a = c.FactoryOIDCAuthenticator
    assert a.allowed_groups == {"learners", "companies", "trainers", "admins", "partners"}
    assert a.platform_groups == {"learners", "companies", "trainers", "admins", "visitors", "partners"}
    assert a.strip_group_prefix == "/"


def test_oidc_auth_state_key_is_made_once_and_private(tmp_path):
    """The auth-state key is written once to hub.data_dir (0600) unless JUPYTERHUB_CRYPT_KEY is set."""
    settings = load_settings(write(tmp_path, {**OIDC, "hub": {"data_dir": str(tmp_path / "data")}}))
    first, second, from_env = Config(), Config(), Config()
    apply.apply_auth(first, settings, environ={"AIFNB_OIDC_CLIENT_SECRET": "s"})
    apply.apply_auth(second, settings, environ={"AIFNB_OIDC_CLIENT_SECRET": "s"})
    key_file = tmp_path / "data" / "auth_state.key"
    assert first.CryptKeeper["keys"] == second.CryptKeeper["keys"] == [key_file.read_text()]
    assert len(bytes.fromhex(key_file.read_text())) == 32 and key_file.stat().st_mode & 0o777 == 0o600
    apply.apply_auth(from_env, settings, environ={"AIFNB_OIDC_CLIENT_SECRET": "s", "JUPYTERHUB_CRYPT_KEY": "k"})
    assert "keys" not in from_env.CryptKeeper


def test_oidc_without_secret_is_a_clear_error(tmp_path):
    """A missing client secret names the environment variable to set."""
    with pytest.raises(SettingsError, match="AIFNB_OIDC_CLIENT_SECRET"):
        apply.apply_auth(Config(), load_settings(write(tmp_path, OIDC)), environ={})


def test_admin_role_names_the_admins_group_only_in_demo_mode(tmp_path):
    """OIDC: no admin role naming a group that a fresh database lacks (admin_groups sets the flag)."""
    demo, oidc = Config(), Config()
    apply.apply_roles(demo, load_settings(write(tmp_path, DEMO)))
    apply.apply_roles(oidc, load_settings(write(tmp_path, OIDC)))
    assert {"name": "admin", "groups": ["admins"]} in demo.JupyterHub.load_roles
    assert [r["name"] for r in oidc.JupyterHub.load_roles] == ["idle-culler", "user"]


def test_culler_is_a_service_with_least_privilege_role():
    """The idle culler runs as a hub service whose role holds only the scopes it needs."""
    c = Config()
    settings = load_settings()
    apply.apply_roles(c, settings)
    apply.apply_culler(c, settings)
    (service,) = c.JupyterHub.services
    assert service["name"] == "idle-culler" and "--timeout=3600" in service["command"]
    role = next(r for r in c.JupyterHub.load_roles if r["name"] == "idle-culler")
    assert role["scopes"] == ["list:users", "read:users:activity", "read:servers", "delete:servers"]
    assert role["services"] == ["idle-culler"]


def test_spawner_gets_profiles_and_a_path_with_slurm():
    """The spawner receives every profile, and the job PATH keeps the sbin folders for Slurm."""
    c = Config()
    apply.apply_spawner(c, load_settings(), "/var/lib/aifnb/content", "/var/lib/aifnb/content.gitconfig")
    assert [p["slug"] for p in c.FactorySlurmSpawner.profiles] == ["cpu-course", "gpu-sandbox", "gpu-training"]
    assert "/usr/sbin" in c.Spawner.environment["PATH"].split(":")
    assert c.JupyterHub.spawner_class == "aifnb_spawners.spawner.FactorySlurmSpawner"


def test_home_is_the_landing_page_and_holds_the_journey():
    """Users land on the home (not the spawn form); it gets the journey's per-user view and our templates."""
    from types import SimpleNamespace

    from aifnb_hub.catalogue import load_catalogue
    from aifnb_hub.journey.config import TEMPLATES, home_url

    c = Config()
    apply.apply_home(c, load_settings(), load_catalogue())
    assert c.JupyterHub.template_paths == [str(TEMPLATES)] and (TEMPLATES / "home.html").is_file()
    assert c.JupyterHub.default_url is home_url
    assert home_url(SimpleNamespace(hub=SimpleNamespace(base_url="/hub/"))) == "/hub/home"
    assert callable(c.JupyterHub.template_vars["journey"])
    routes = [route for route, *_ in c.JupyterHub.extra_handlers]
    assert "/api/aifnb/progress" in routes and "/aifnb/progress" in routes
    assert "custom:aifnb:progress" in c.JupyterHub.custom_scopes


def test_hub_database_is_sqlite_in_data_dir_unless_db_url_is_set(tmp_path):
    """No db_url: SQLite under data_dir (the embedded default); a site's PostgreSQL URL is used as given."""
    c = Config()
    settings = load_settings(write(tmp_path, {**DEMO, "hub": {"data_dir": str(tmp_path / "data")}}))
    apply.apply_hub(c, settings)
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path / 'data' / 'jupyterhub.sqlite'}"
    c = Config()
    settings = load_settings(write(tmp_path, {**DEMO, "hub": {"db_url": "postgresql://hub@db.cluster:5432/jupyterhub"}}))
    apply.apply_hub(c, settings)
    assert c.JupyterHub.db_url == "postgresql+psycopg2://hub@db.cluster:5432/jupyterhub"  # the driver the platform ships
