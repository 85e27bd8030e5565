"""OIDC login against a real provider (npm's oidc-provider), driven in chromium through the real hub."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
import yaml

from tests.hub.oidc.conftest import ACCOUNTS, REFRESH_AGE, hub_user
from tests.support.browser import chromium

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def login(browser, hub, sub: str):
    """Log in as the provider account ``sub`` in a fresh browser; returns (context, page, callback status)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{hub.url}/hub/oauth_login?next=%2Fhub%2Fhome")
    page.fill("input[name=login]", sub)
    page.fill("input[name=password]", "any password")
    with page.expect_response(lambda r: "/hub/oauth_callback" in r.url) as callback:
        page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page, callback.value.status


def make_token(context, hub, name: str) -> str:
    """An API token the logged-in user makes for themselves, as the token page does."""
    xsrf = next(c["value"] for c in context.cookies() if c["name"] == "_xsrf")
    response = context.request.post(
        f"{hub.url}/hub/api/users/{name}/tokens",
        data=json.dumps({"note": "oidc test", "expires_in": 3600}),
        headers={"X-XSRFToken": xsrf, "Content-Type": "application/json"},
    )
    assert response.status == 201, response.text()
    return response.json()["token"]


def api_user(hub, token: str) -> int:
    return httpx.get(f"{hub.url}/hub/api/user", headers={"Authorization": f"token {token}"}, timeout=10).status_code


def test_learner_gets_the_learners_group_only(browser, oidc_hub):
    """A learner logs in; the hub keeps only the groups it defines (not the provider's 'staff')."""
    context, page, status = login(browser, oidc_hub, "u-learner")
    assert status == 302 and page.url.endswith("/hub/home"), page.content()[-1500:]
    assert hub_user(oidc_hub, "oidc-learner") == {"admin": False, "groups": ["learners"], "tokens": 0}
    assert api_user(oidc_hub, make_token(context, oidc_hub, "oidc-learner")) == 200
    context.close()


def test_admins_group_with_keycloak_path_makes_a_hub_admin(browser, oidc_hub):
    """A member of '/admins' (Keycloak's full path, prefix stripped) becomes a hub admin on a fresh database."""
    context, page, status = login(browser, oidc_hub, "u-admin")
    assert status == 302, page.content()[-1500:]
    user = hub_user(oidc_hub, "oidc-admin")
    assert user["admin"] is True and user["groups"] == ["admins"]
    assert page.goto(f"{oidc_hub.url}/hub/admin").status == 200
    context.close()


@pytest.mark.parametrize(
    ("sub", "name"),
    [("u-nogroup", "oidc-nogroup"), ("u-visitor", "oidc-visitor")],
    ids=["no-platform-group", "site-group-not-allowed"],
)
def test_user_outside_the_allowed_groups_is_refused(browser, oidc_hub, sub, name):
    """No platform group, or only a group the site defines but does not allow: 403 saying why, no hub user."""
    context, page, status = login(browser, oidc_hub, sub)
    assert status == 403 and page.inner_text("h1") == "403 : Login refused"
    assert "is not a member of a group allowed on this platform" in page.inner_text("body")
    assert hub_user(oidc_hub, name) is None
    context.close()


def test_group_the_site_allows_explicitly_logs_in(browser, oidc_hub):
    """A group listed in auth.oidc.allowed_groups ('/partners') lets its members in."""
    context, _, status = login(browser, oidc_hub, "u-partner")
    assert status == 302
    assert hub_user(oidc_hub, "oidc-partner")["groups"] == ["partners"]
    context.close()


def test_groups_follow_the_provider_between_logins(browser, oidc_hub, provider):
    """Groups changed at the provider are the hub's groups at the next login."""
    context, _, status = login(browser, oidc_hub, "u-mover")
    context.close()
    assert status == 302 and hub_user(oidc_hub, "oidc-mover")["groups"] == ["learners"]
    provider.set_accounts({**ACCOUNTS, "u-mover": {"preferred_username": "oidc-mover", "groups": ["trainers", "/companies"]}})
    try:
        context, _, status = login(browser, oidc_hub, "u-mover")
        context.close()
        assert status == 302 and hub_user(oidc_hub, "oidc-mover")["groups"] == ["companies", "trainers"]
    finally:
        provider.set_accounts(ACCOUNTS)


def test_groups_changed_while_logged_in_follow_at_the_next_refresh(browser, oidc_hub, provider):
    """A trainer who stays a learner loses 'trainers' within refresh_age, keeping session and tokens."""
    account = {"preferred_username": "oidc-shifter", "groups": ["learners", "trainers"]}
    provider.set_accounts({**ACCOUNTS, "u-shifter": account})
    try:
        context, page, status = login(browser, oidc_hub, "u-shifter")
        assert status == 302 and hub_user(oidc_hub, "oidc-shifter")["groups"] == ["learners", "trainers"]
        token = make_token(context, oidc_hub, "oidc-shifter")
        provider.set_accounts({**ACCOUNTS, "u-shifter": {**account, "groups": ["learners"]}})
        time.sleep(REFRESH_AGE + 0.5)
        assert api_user(oidc_hub, token) == 200
        assert hub_user(oidc_hub, "oidc-shifter")["groups"] == ["learners"]
        page.goto(f"{oidc_hub.url}/hub/home")
        assert page.url.endswith("/hub/home"), page.url
        context.close()
    finally:
        provider.set_accounts(ACCOUNTS)


def test_user_removed_from_every_group_loses_session_and_tokens(browser, oidc_hub, provider):
    """Removed while logged in: within refresh_age the browser session ends and API tokens answer 403."""
    context, page, status = login(browser, oidc_hub, "u-leaver")
    assert status == 302
    token = make_token(context, oidc_hub, "oidc-leaver")
    assert api_user(oidc_hub, token) == 200
    provider.set_accounts({**ACCOUNTS, "u-leaver": {"preferred_username": "oidc-leaver", "groups": []}})
    try:
        removed = time.monotonic()
        time.sleep(REFRESH_AGE + 0.5)
        assert api_user(oidc_hub, token) == 403
        page.goto(f"{oidc_hub.url}/hub/home")
        assert "/hub/home" not in page.url, page.url
        assert time.monotonic() - removed < REFRESH_AGE + 10
        assert hub_user(oidc_hub, "oidc-leaver")["tokens"] == 0
        assert "oidc-leaver is no longer allowed" in oidc_hub.log()
    finally:
        provider.set_accounts(ACCOUNTS)
        context.close()


def test_names_differing_in_case_never_merge(browser, oidc_hub):
    """The provider's 'Alice' is refused (names are not lower-cased); 'alice' logs in as herself."""
    context, page, status = login(browser, oidc_hub, "u-Alice")
    assert status == 403 and "is not a valid name on this platform" in page.inner_text("body")
    context.close()
    context, _, status = login(browser, oidc_hub, "u-alice")
    assert status == 302 and hub_user(oidc_hub, "alice") is not None and hub_user(oidc_hub, "Alice") is None
    context.close()


def test_a_name_bound_to_another_identity_is_refused(browser, oidc_hub):
    """Two provider accounts with one name: the second is refused, the first keeps its tokens."""
    first, _, status = login(browser, oidc_hub, "u-dupe-1")
    assert status == 302
    token = make_token(first, oidc_hub, "oidc-dupe")
    second, page, status = login(browser, oidc_hub, "u-dupe-2")
    assert status == 403 and "already belongs to another account" in page.inner_text("body")
    assert api_user(oidc_hub, token) == 200
    first.close()
    second.close()


@pytest.mark.parametrize("sub", ["u-root", "u-nobody"], ids=["root", "nobody"])
def test_system_account_names_are_refused(browser, oidc_hub, sub):
    """'root' (even in admins) and 'nobody' are refused at login, as they are for Slurm jobs."""
    context, page, status = login(browser, oidc_hub, sub)
    assert status == 403 and "is a system account" in page.inner_text("body")
    assert hub_user(oidc_hub, ACCOUNTS[sub]["preferred_username"]) is None
    context.close()


def test_wrong_client_secret_is_a_clear_page_and_one_log_line(browser, wrong_secret_hub):
    """The user reads what went wrong (not a bare 500); the admins get one line, no traceback."""
    context, page, status = login(browser, wrong_secret_hub, "u-learner")
    text = page.inner_text("body")
    assert status == 502 and page.inner_text("h1") == "502 : Login failed"
    assert "refused the hub's client credentials" in text and "Traceback" not in text
    log = wrong_secret_hub.log()
    (line,) = [line for line in log.splitlines() if "OIDC login failed" in line]
    assert "refused the hub's client credentials" in line and "/token" in line and "invalid_client" in line
    assert "Traceback" not in log
    assert not re.search(r"[?&]code=(?!\[secret\])", log), "the OAuth code reached the log"
    context.close()


def test_provider_down_at_start_is_a_warning_naming_its_url(provider_down_hub):
    """The hub starts without its provider and says which URL did not answer."""
    url = yaml.safe_load(provider_down_hub.settings_path.read_text())["auth"]["oidc"]["userdata_url"]
    deadline = time.monotonic() + 15
    while f"OIDC provider at {url} does not answer" not in provider_down_hub.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert f"OIDC provider at {url} does not answer" in provider_down_hub.log()
    assert httpx.get(f"{provider_down_hub.url}/hub/api/", timeout=5).status_code == 200
