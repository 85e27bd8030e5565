"""How people log in: the centre's OpenID Connect provider, or the loopback-only demo.

:class:`FactoryOIDCAuthenticator` is oauthenticator's ``GenericOAuthenticator`` with the
platform's rules added; the data (URLs, claims, groups) comes from the settings through
``apply.apply_auth``. What it changes, and why:

- **Names** come from one claim and are used as they are: no lower-casing, so the provider's
  ``Alice`` and ``alice`` cannot become one hub user (``Alice`` is refused, not merged). A name
  must already be a Unix user name (``validate.USERNAME``) and pass the rule that keeps system
  accounts out of Slurm (``AccountPolicy``: the deny-list; uid range when the account exists here).
- **One identity per name.** The first login binds a hub name to the provider's ``sub`` (kept in
  the encrypted auth state); a login whose name is bound to another ``sub`` is refused.
- **Groups** are the provider's groups with ``strip_group_prefix`` removed (Keycloak sends
  ``/learners``), kept only when the settings define them; login needs one of ``allowed_groups``
  (the platform's four plus those the site lists), with a message saying so.
- **Refresh.** Every ``auth_refresh_age`` seconds a request re-reads the user's groups from the
  provider (``refresh_user``); a user no longer allowed loses every API token and browser session
  at once. ``auth_refresh_strict`` makes API tokens of a user whose groups cannot be confirmed
  answer 403 until the user logs in again.
- **Provider errors** (wrong client secret, provider down) show the user a page saying what
  happened and log one line for the admins, instead of a 500 with a traceback; at start the
  provider is probed and a warning names its URL when it does not answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from jupyterhub.authenticators.shared import SharedPasswordAuthenticator
from jupyterhub.utils import new_token
from oauthenticator.generic import GenericOAuthenticator
from tornado import web
from tornado.httpclient import HTTPClientError, HTTPRequest
from traitlets import Float, Set, Unicode

from aifnb_slurm.accounts import AccountError, AccountPolicy
from aifnb_slurm.validate import USERNAME, matches

PROVIDER_FAILED = (
    "The hub could not complete your login with the identity provider ({cause}). "
    "Nothing is wrong with your account; please tell the platform's administrators (the hub's log says more)."
)


def name_refusal(name: str, policy: AccountPolicy) -> str | None:
    """Why the provider's name ``name`` may not log in, or None when it may.

    The rule that keeps system accounts out of Slurm jobs, applied at login: the allowed shape and
    the deny-list always; the uid range when the account exists on this host (a person without an
    account here yet may log in; starting a session then says what is missing).
    """
    if not matches(USERNAME, name):
        return (
            f"the user name {str(name)[:40]!r} given by your identity provider is not a valid name on this "
            "platform (1-32 of a-z, 0-9, '_', '-', lower case, not starting with a digit or '-'); "
            "ask the centre's administrators"
        )
    if name in policy.denied:
        return f"{name!r} is a system account and cannot log in"
    try:
        pwd.getpwnam(name)
    except KeyError:
        return None
    try:
        policy.check(name)
    except AccountError as exc:
        return str(exc)
    return None


def error_page(status: int, title: str, message: str) -> web.HTTPError:
    """An error JupyterHub renders as its page (title, then message) that tornado does not log again.

    Tornado logs an HTTPError's log_message with the request's URL, which for the OAuth callback
    holds the code and state; the message goes in ``jupyterhub_message`` instead, and the caller
    logs one line of its own.
    """
    error = web.HTTPError(status, reason=title)
    error.jupyterhub_message = message
    return error


def _without_query(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(query="", fragment=""))


def _one_line(text: str, limit: int = 300) -> str:
    return " ".join(text.split())[:limit]


class ProviderError(HTTPClientError):
    """A request to the provider that failed: HTTP code (599: no answer), method, URL and answer, one line."""

    def __init__(self, code: int, method: str, url: str, detail: str, response=None):
        super().__init__(code, f"{method} {url}: {detail}", response)


class FactoryOIDCAuthenticator(GenericOAuthenticator):
    """GenericOAuthenticator with the platform's name, group, refresh and error rules."""

    platform_groups = Set(
        Unicode(),
        help="Hub groups the settings define; the provider's other groups are ignored (never created in the hub)",
    ).tag(config=True)

    strip_group_prefix = Unicode(
        "",
        help="Removed from the start of each group name the provider sends ('/' for Keycloak's full group paths)",
    ).tag(config=True)

    probe_timeout = Float(
        5.0,
        help="Seconds the start-up probe of the provider's userinfo URL waits for an answer",
    ).tag(config=True)

    #: Which accounts may log in: the same rule as for Slurm jobs.
    account_policy = AccountPolicy()

    def normalize_username(self, username: str) -> str:
        """Names are used as the provider sends them: lower-casing would merge ``Alice`` into ``alice``."""
        return username

    def check_allow_config(self) -> None:
        """JupyterHub's own checks, then a probe of the provider in the background (start-up only)."""
        super().check_allow_config()
        self._probe_task = asyncio.get_running_loop().create_task(self._probe_provider())

    async def _probe_provider(self) -> None:
        url = _without_query(self.userdata_url)
        request = HTTPRequest(url, method="GET", connect_timeout=self.probe_timeout, request_timeout=self.probe_timeout)
        try:
            response = await self.http_client.fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as exc:
            self.log.warning(f"OIDC provider at {url} does not answer ({_one_line(str(exc))}); logins fail until it does")
        else:
            self.log.info(f"OIDC provider at {url} answers (HTTP {response.code} without a token)")

    async def fetch(self, req, label="fetching", parse_json=True, **kwargs):
        """oauthenticator's fetch without its multi-line log: failures raise :class:`ProviderError`."""
        url = _without_query(req.url)
        try:
            response = await self.http_client.fetch(req, **kwargs)
        except HTTPClientError as exc:
            body = exc.response.body.decode("utf8", "replace") if exc.response and exc.response.body else str(exc)
            raise ProviderError(exc.code, req.method, url, _one_line(body), exc.response) from None
        except OSError as exc:
            raise ProviderError(599, req.method, url, f"did not answer ({_one_line(str(exc))})") from None
        if not parse_json:
            return response
        return json.loads(response.body.decode("utf8", "replace")) if response.body else None

    async def get_user_groups(self, auth_state: dict) -> set[str]:
        """The provider's groups, prefix removed, that the settings define."""
        groups = await super().get_user_groups(auth_state)
        prefix = self.strip_group_prefix
        names = {g[len(prefix) :] if prefix and g.startswith(prefix) else g for g in groups if isinstance(g, str)}
        return names & self.platform_groups

    async def authenticate(self, handler, data=None, **kwargs):
        """oauthenticator's login, then the platform's rules; each refusal is a 403 saying why."""
        try:
            auth_model = await super().authenticate(handler, data, **kwargs)
        except HTTPClientError as exc:
            raise self._provider_failed(exc) from None
        existing = handler.find_user(auth_model["name"]) if handler is not None else None
        refusal, same_user = await self._refusal(auth_model, existing)
        if refusal:
            self.log.warning(f"OIDC login refused: {refusal}")
            if existing is not None and same_user:
                # The user is known and was removed from every allowed group: end what they hold.
                self._revoke(existing)
            raise error_page(403, "Login refused", f"{refusal[0].upper()}{refusal[1:]}.")
        return auth_model

    async def refresh_user(self, user, handler=None, **kwargs):
        """Groups re-read from the provider; a user it no longer allows loses tokens and sessions."""
        try:
            refreshed = await super().refresh_user(user, handler, **kwargs)
        except HTTPClientError as exc:
            self.log.warning(f"OIDC: groups of {user.name} not confirmed (provider: {exc.code}); a new login is needed")
            return False
        if not isinstance(refreshed, dict):
            return refreshed
        refreshed["name"] = user.name
        refusal, _ = await self._refusal(refreshed, user)
        if refusal:
            self.log.warning(f"OIDC: {user.name} is no longer allowed ({refusal}); API tokens and browser sessions revoked")
            self._revoke(user)
            return False
        return refreshed

    def _in_allowed_group(self, auth_model: dict) -> bool:
        return bool(set(auth_model.get("groups") or ()) & self.allowed_groups)

    async def _refusal(self, auth_model: dict, existing) -> tuple[str | None, bool]:
        """Why this login (or refresh) is refused, or None; and whether it is ``existing``'s own identity."""
        name = auth_model["name"]
        refusal = name_refusal(name, self.account_policy)
        if refusal:
            return refusal, False
        sub = (auth_model["auth_state"].get(self.user_auth_state_key) or {}).get("sub")
        if not sub:
            return "the identity provider sent no 'sub' claim", False
        if existing is not None:
            state = await existing.get_auth_state() or {}
            bound = (state.get(self.user_auth_state_key) or {}).get("sub")
            if bound and bound != sub:
                return (
                    f"the user name {name!r} already belongs to another account of the identity provider; "
                    "ask the centre's administrators to give your account its own name"
                ), False
        if not self._in_allowed_group(auth_model):
            allowed = ", ".join(sorted(self.allowed_groups))
            return (
                f"{name!r} is not a member of a group allowed on this platform ({allowed}); "
                "ask the centre's administrators to add you to one"
            ), True
        return None, True

    def _revoke(self, user) -> None:
        """Every API and OAuth token of ``user`` deleted, every browser session ended."""
        db = user.db
        for token in list(user.orm_user.api_tokens):
            db.delete(token)
        user.orm_user.cookie_id = new_token()
        db.commit()

    def _provider_failed(self, exc: HTTPClientError) -> web.HTTPError:
        body = exc.response.body.decode("utf8", "replace") if exc.response and exc.response.body else ""
        if exc.code == 599:
            cause = "the provider did not answer"
        elif "invalid_client" in body or exc.code == 401:
            cause = "the provider refused the hub's client credentials"
        else:
            cause = f"the provider answered HTTP {exc.code}"
        self.log.error(f"OIDC login failed: {cause} ({exc}); check auth.oidc and the client secret")
        return error_page(502, "Login failed", PROVIDER_FAILED.format(cause=cause))


class DemoAuthenticator(SharedPasswordAuthenticator):
    """JupyterHub's shared-password login, with a warning in the log at every start."""

    def check_allow_config(self) -> None:
        """JupyterHub's own checks, then the warning that this login is not for production."""
        super().check_allow_config()
        self.log.warning(
            "auth.mode is demo: one shared password logs in as any demo user. NOT FOR PRODUCTION; "
            "use auth.mode: oidc (README, 'Identity')"
        )


def auth_state_key(data_dir: Path) -> str:
    """The key that encrypts auth states (hex), kept in ``data_dir/auth_state.key`` (0600), made once."""
    path = data_dir / "auth_state.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip()
