"""Settings become JupyterHub configuration through small functions, each checked on a plain Config."""

from __future__ import annotations

import pytest
from traitlets.config import Config

from aifnb_hub import apply
from aifnb_hub.settings import load_settings
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


def test_demo_auth_allows_only_listed_users_and_never_all():
    """Demo mode: shared password, the settings' users allowed, allow_all off, groups loaded."""
    c = Config()
    apply.apply_auth(c, load_settings())
    assert c.JupyterHub.authenticator_class == "shared-password"
    assert c.Authenticator.allow_all is False
    assert c.Authenticator.allowed_users == {"learner1", "company1", "trainer1", "admin1"}
    assert c.JupyterHub.load_groups["companies"] == {"users": ["company1"]}


def test_oidc_takes_groups_from_the_identity_provider(tmp_path):
    """OIDC mode: secret from the environment, groups managed from the token, admins by group."""
    settings = load_settings(write(tmp_path, OIDC))
    c = Config()
    apply.apply_auth(c, settings, environ={"AIFNB_OIDC_CLIENT_SECRET": "s3cret"})
    assert c.JupyterHub.authenticator_class == "generic-oauth"
    assert c.GenericOAuthenticator.client_secret == "s3cret"
    assert c.GenericOAuthenticator.manage_groups is True
    assert c.GenericOAuthenticator.allowed_groups == {"learners", "companies", "trainers", "admins"}
    assert c.GenericOAuthenticator.admin_groups == {"admins"}
    assert c.Authenticator.allow_all is False


def test_oidc_without_secret_is_a_clear_error(tmp_path):
    """A missing client secret names the environment variable to set."""
    with pytest.raises(ValueError, match="AIFNB_OIDC_CLIENT_SECRET"):
        apply.apply_auth(Config(), load_settings(write(tmp_path, OIDC)), environ={})


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


def test_home_page_lists_the_catalogue():
    """The hub's home template receives every catalogue entry, and our template folder comes first."""
    from aifnb_hub.catalogue import load_catalogue

    c = Config()
    catalogue = load_catalogue()
    apply.apply_home(c, load_settings(), catalogue)
    assert [e["title"] for e in c.JupyterHub.template_vars["catalogue"]] == [e.title for e in catalogue]
    assert c.JupyterHub.template_paths == [str(apply.TEMPLATES)]
    assert (apply.TEMPLATES / "home.html").is_file()
