"""A real OIDC provider and real hubs that log in through it, driven by chromium."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from aifnb_hub.settings import ROLE_GROUPS
from tests.support.hub import Hub, free_port
from tests.support.oidc_provider import CLIENT_ID, OidcProvider

#: Seconds between two checks of a user's groups with the provider, in the main test hub.
REFRESH_AGE = 2
SECRET_ENV = "AIFNB_TEST_OIDC_SECRET"
WRONG_SECRET_ENV = "AIFNB_TEST_OIDC_WRONG_SECRET"

#: Provider accounts by sub (the login typed on the provider's page).
ACCOUNTS = {
    "u-learner": {"preferred_username": "oidc-learner", "groups": ["learners", "staff"]},
    "u-admin": {"preferred_username": "oidc-admin", "groups": ["/admins"]},
    "u-nogroup": {"preferred_username": "oidc-nogroup", "groups": ["staff"]},
    "u-visitor": {"preferred_username": "oidc-visitor", "groups": ["visitors"]},
    "u-partner": {"preferred_username": "oidc-partner", "groups": ["/partners"]},
    "u-mover": {"preferred_username": "oidc-mover", "groups": ["learners"]},
    "u-leaver": {"preferred_username": "oidc-leaver", "groups": ["/learners"]},
    "u-Alice": {"preferred_username": "Alice", "groups": ["learners"]},
    "u-alice": {"preferred_username": "alice", "groups": ["learners"]},
    "u-dupe-1": {"preferred_username": "oidc-dupe", "groups": ["learners"]},
    "u-dupe-2": {"preferred_username": "oidc-dupe", "groups": ["learners"]},
    "u-root": {"preferred_username": "root", "groups": ["admins"]},
    "u-nobody": {"preferred_username": "nobody", "groups": ["learners"]},
}


def oidc_site(provider_urls: dict[str, str], hub: Hub, secret_env: str, **oidc) -> dict:
    """The auth and groups sections of a test hub's site file (no users: groups come from the provider)."""
    return {
        "auth": {
            "mode": "oidc",
            "oidc": {
                "client_id": CLIENT_ID,
                "client_secret_env": secret_env,
                "callback_url": f"{hub.url}/hub/oauth_callback",
                **provider_urls,
                **oidc,
            },
        },
        # visitors: a group the site defines but does not allow to log in; partners: one it allows.
        "groups": {**{g: {} for g in ROLE_GROUPS}, "visitors": {}, "partners": {}},
    }


def make_hub(workdir: Path, provider_urls: dict[str, str], secret_env: str, **oidc) -> Hub:
    """A hub whose port is known before the provider starts (the provider registers its callback)."""
    workdir.mkdir(parents=True, exist_ok=True)
    hub = Hub(workdir, {})
    site = yaml.safe_load(hub.settings_path.read_text())
    site.update(oidc_site(provider_urls, hub, secret_env, **oidc))
    hub.settings_path.write_text(yaml.safe_dump(site))
    return hub


@pytest.fixture(scope="module")
def oidc_env():
    """The client secrets the test hubs read from their environment (the right one and a wrong one)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET_ENV, "test-client-secret")
        mp.setenv(WRONG_SECRET_ENV, "not-the-client-secret")
        yield


@pytest.fixture(scope="module")
def provider_and_hubs(hub_workdir, oidc_env):
    """The provider, the main hub (Keycloak-style prefix, partners allowed, quick refresh) and a wrong-secret hub."""
    provider = OidcProvider(hub_workdir / "provider", ACCOUNTS, secret="test-client-secret")
    main = make_hub(
        hub_workdir / "main",
        provider.urls(),
        SECRET_ENV,
        strip_group_prefix="/",
        allowed_groups=["partners"],
        refresh_age=REFRESH_AGE,
    )
    wrong = make_hub(hub_workdir / "wrong-secret", provider.urls(), WRONG_SECRET_ENV)
    hubs = [main, wrong]
    try:
        provider.start([f"{h.url}/hub/oauth_callback" for h in hubs])
        for h in hubs:
            h.start()
        yield provider, main, wrong
    finally:
        for h in hubs:
            h.stop()
        provider.stop()


@pytest.fixture(scope="module")
def provider(provider_and_hubs):
    return provider_and_hubs[0]


@pytest.fixture(scope="module")
def oidc_hub(provider_and_hubs):
    return provider_and_hubs[1]


@pytest.fixture(scope="module")
def wrong_secret_hub(provider_and_hubs):
    return provider_and_hubs[2]


@pytest.fixture(scope="module")
def provider_down_hub(hub_workdir, oidc_env):
    """A hub whose provider does not answer (nothing listens on its port)."""
    down = f"http://127.0.0.1:{free_port()}"
    urls = {"authorize_url": f"{down}/auth", "token_url": f"{down}/token", "userdata_url": f"{down}/me"}
    hub = make_hub(hub_workdir / "provider-down", urls, SECRET_ENV)
    try:
        yield hub.start()
    finally:
        hub.stop()


def hub_user(hub: Hub, name: str) -> dict | None:
    """The hub's own record of a user, read from its database: admin flag, groups, API tokens."""
    with sqlite3.connect(f"file:{hub.workdir / 'data' / 'jupyterhub.sqlite'}?mode=ro", uri=True) as db:
        row = db.execute("SELECT id, admin FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        groups = db.execute(
            "SELECT g.name FROM groups g JOIN user_group_map m ON m.group_id = g.id WHERE m.user_id = ? ORDER BY g.name",
            (row[0],),
        ).fetchall()
        tokens = db.execute("SELECT COUNT(*) FROM api_tokens WHERE user_id = ?", (row[0],)).fetchone()[0]
    return {"admin": bool(row[1]), "groups": [g for (g,) in groups], "tokens": tokens}
