"""Who a request to the MLflow server is, asked of the hub: MLflow's ``authorization_function``.

MLflow's auth app calls :func:`authenticate` before every request and then applies its own
permission model to the user it returns. A request is identified by, in this order:

* a hub API token in ``Authorization: Bearer`` (what MLflow's client sends from
  ``MLFLOW_TRACKING_TOKEN``) or ``Authorization: token``: sessions and batch jobs;
* the service's OAuth cookie, set by :func:`oauth_callback` after a hub login: browsers.

Passwords (HTTP basic auth) are never accepted. The token must be allowed to use this service
(``access:services!service=mlflow``). Each identified user is mirrored into MLflow's user store
(admin flag from the hub groups in ``admin_groups``; one role per hub group, which is what an
experiment is shared with) at most every :data:`SYNC_SECONDS` per worker process.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
import threading
import time
from urllib.parse import quote, urlsplit

import requests
from flask import Response, make_response, redirect, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jupyterhub.services.auth import HubOAuth, check_scopes
from tornado.web import HTTPError
from werkzeug.datastructures import Authorization

from . import GROUP_ROLE_PREFIX, OPTIONS_ENV

log = logging.getLogger("aifnb.mlflow")
TOKEN_COOKIE = "aifnb-mlflow-token"
STATE_COOKIE = "aifnb-mlflow-oauth-state"
#: Seconds a user's MLflow record (admin flag, group roles) is trusted before it is synced again.
SYNC_SECONDS = 60
#: Seconds a login may take between the redirect to the hub and the callback.
STATE_MAX_AGE = 600
WORKSPACE = "default"
#: Batch jobs' tokens (issued by this service to a session, see app.job_token) start with this.
JOB_TOKEN_PREFIX = "aifnb-job."
#: The longest a batch job's token lives (seconds): the longest walltime plus a margin.
MAX_JOB_TOKEN_SECONDS = 8 * 86400


def unauthenticated_message(prefix: str) -> str:
    return (
        f"Not logged in to the hub's MLflow service ({prefix}/). In a browser, open {prefix}/ to log in "
        "through the hub; from code, set MLFLOW_TRACKING_TOKEN to a hub API token (sessions and batch jobs "
        "of the platform have it already)."
    )


class HubIdentity:
    """The hub as seen by one MLflow worker process: OAuth client, token checks, user sync."""

    def __init__(self, options: dict):
        self.prefix = options["prefix"].rstrip("/")
        self.admin_groups = set(options["admin_groups"])
        self.secure_cookies = urlsplit(options["public_url"]).scheme == "https"
        self.oauth = HubOAuth(cache_max_age=60)
        self.signer = URLSafeTimedSerializer(os.environ["MLFLOW_FLASK_SERVER_SECRET_KEY"], salt="aifnb-mlflow-oauth")
        self.job_signer = URLSafeTimedSerializer(os.environ["MLFLOW_FLASK_SERVER_SECRET_KEY"], salt="aifnb-mlflow-job")
        self._synced: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    # -- who is it -------------------------------------------------------------------------

    def token_of_request(self) -> str | None:
        header = request.headers.get("Authorization", "")
        kind, _, value = header.partition(" ")
        if kind.lower() in ("bearer", "token") and value.strip():
            return value.strip()
        return request.cookies.get(TOKEN_COOKIE) or None

    def authenticate(self, *, allow_job_tokens: bool = True) -> Authorization | Response:
        token = self.token_of_request()
        if token is None:
            return self.login_response()
        if token.startswith(JOB_TOKEN_PREFIX):
            if not allow_job_tokens:
                return _text(403, "A batch job's MLflow token cannot be used for this; use a hub token.")
            return self.authenticate_job_token(token)
        try:
            model = self.oauth.user_for_token(token, use_cache=True, sync=True)
        except HTTPError as exc:  # HubAuth's error for a hub that is down or answered an error
            log.error("hub check of a token failed: %s", exc)
            return _text(503, "The hub could not confirm who you are right now; try again in a minute.")
        if not model or model.get("kind", "user") != "user":
            if request.cookies.get(TOKEN_COOKIE) and not request.headers.get("Authorization"):
                return self.login_response()  # an expired browser login: log in again (the new token replaces it)
            return _text(401, "This hub token is not valid (expired or revoked). " + unauthenticated_message(self.prefix))
        if not check_scopes(self.oauth.access_scopes, set(model.get("scopes", []))):
            return _text(403, f"This hub token may not use the MLflow service: it lacks {min(self.oauth.access_scopes)}.")
        return self.as_user(model["name"])

    def as_user(self, name: str) -> Authorization | Response:
        try:
            self.sync_user(name)
        except requests.HTTPError as exc:
            if exc.response is not None and exc.response.status_code == 404:
                return _text(401, f"There is no hub user {name} any more. " + unauthenticated_message(self.prefix))
            log.error("reading the hub groups of %s failed: %s", name, exc)
            return _text(503, "The hub could not confirm your groups right now; try again in a minute.")
        except requests.RequestException as exc:
            log.error("reading the hub groups of %s failed: %s", name, exc)
            return _text(503, "The hub could not confirm your groups right now; try again in a minute.")
        return Authorization("basic", {"username": name, "password": ""})

    # -- batch jobs ------------------------------------------------------------------------

    def issue_job_token(self, name: str, expires_in: int) -> tuple[str, float]:
        """A token this service alone accepts, as ``name``, until ``expires_in`` seconds from now."""
        expires_at = time.time() + min(max(expires_in, 60), MAX_JOB_TOKEN_SECONDS)
        return JOB_TOKEN_PREFIX + self.job_signer.dumps({"user": name, "exp": expires_at}), expires_at

    def authenticate_job_token(self, token: str) -> Authorization | Response:
        try:
            claims = self.job_signer.loads(token.removeprefix(JOB_TOKEN_PREFIX), max_age=MAX_JOB_TOKEN_SECONDS)
        except BadSignature:
            return _text(401, "This batch job's MLflow token is not valid. " + unauthenticated_message(self.prefix))
        if not isinstance(claims, dict) or time.time() > float(claims.get("exp", 0)):
            return _text(401, "This batch job's MLflow token has expired; submit the job again from a session.")
        return self.as_user(str(claims["user"]))

    def login_response(self) -> Response:
        """A browser page: off to the hub's login (via OAuth); anything else: 401 saying how to log in."""
        wants_page = request.method == "GET" and "/api/" not in request.path and "/ajax-api/" not in request.path
        if not wants_page:
            response = _text(401, unauthenticated_message(self.prefix))
        else:
            state = secrets.token_urlsafe(16)
            target = request.full_path if request.query_string else request.path
            next_url = target if target.startswith(self.prefix + "/") and not target.startswith("//") else self.prefix + "/"
            response = redirect(f"{self.oauth.login_url}&state={quote(state)}", code=302)
            response.set_cookie(
                STATE_COOKIE,
                self.signer.dumps({"state": state, "next": next_url}),
                max_age=STATE_MAX_AGE,
                path=self.prefix + "/",
                httponly=True,
                secure=self.secure_cookies,
                samesite="Lax",
            )
        return response

    def oauth_callback(self) -> Response:
        """End of the hub login: check the state, trade the code for a token, keep it in a cookie."""
        try:
            saved = self.signer.loads(request.cookies.get(STATE_COOKIE, ""), max_age=STATE_MAX_AGE)
        except BadSignature:
            return _text(400, f"This login link is stale; open {self.prefix}/ to log in again.")
        code, state = request.args.get("code", ""), request.args.get("state", "")
        if not code or not secrets.compare_digest(state, saved.get("state", "")):
            return _text(400, f"This login link does not match your browser's login; open {self.prefix}/ to log in again.")
        try:
            token = self.oauth.token_for_code(code, sync=True)
        except HTTPError as exc:
            log.error("OAuth code exchange with the hub failed: %s", exc)
            return _text(503, "The hub did not confirm your login; try again in a minute.")
        response = redirect(saved["next"], code=302)
        # One Set-Cookie per response: MLflow's security-headers middleware keeps only the last
        # one (it turns the headers into a dict). The state cookie expires on its own.
        response.set_cookie(
            TOKEN_COOKIE, token, path=self.prefix + "/", httponly=True, secure=self.secure_cookies, samesite="Lax"
        )
        return response

    # -- keep MLflow's user store in step with the hub --------------------------------------

    def hub_groups(self, name: str) -> list[str]:
        """The user's hub groups, read with the service's own token (role: read:users:groups)."""
        response = requests.get(
            f"{self.oauth.api_url}/users/{quote(name)}",
            headers={"Authorization": f"token {self.oauth.api_token}"},
            timeout=10,
        )
        response.raise_for_status()
        return sorted(response.json().get("groups", []))

    def sync_user(self, name: str, force: bool = False) -> None:
        stamp, _ = self._synced.get(name, (0.0, ""))
        if not force and time.monotonic() - stamp < SYNC_SECONDS:
            return
        groups = self.hub_groups(name)
        with self._lock:
            sync_mlflow_user(name, groups, bool(self.admin_groups.intersection(groups)))
            self._synced[name] = (time.monotonic(), ",".join(groups))

    def groups_of(self, name: str) -> list[str]:
        """The hub groups last synced for ``name`` (synced now if never)."""
        if name not in self._synced:
            self.sync_user(name)
        groups = self._synced[name][1]
        return groups.split(",") if groups else []


def sync_mlflow_user(name: str, groups: list[str], admin: bool) -> None:
    """Create the MLflow user if new (with an unusable random password), set its admin flag, and
    give it exactly the group roles of its hub groups."""
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth import store

    if not store.has_user(name, use_primary=True):
        try:
            store.create_user(name, secrets.token_urlsafe(32), is_admin=admin)
        except MlflowException as exc:  # another worker created it meanwhile
            if not store.has_user(name, use_primary=True):
                raise exc from None
    user = store.get_user(name)
    if user.is_admin != admin:
        store.update_user(name, is_admin=admin)
    wanted = {group_role(g).id: g for g in groups}
    current = {r.id for r in store.list_user_roles(user.id) if r.name.startswith(GROUP_ROLE_PREFIX)}
    for role_id in wanted.keys() - current:
        try:
            store.assign_role_to_user(user.id, role_id)
        except MlflowException:  # assigned by another worker meanwhile
            pass
    for role_id in current - wanted.keys():
        store.unassign_role_from_user(user.id, role_id)


def group_role(group: str):
    """The MLflow role standing for a hub group (created on first use)."""
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth import store

    name = GROUP_ROLE_PREFIX + group
    try:
        return store.get_role_by_name(WORKSPACE, name)
    except MlflowException:
        try:
            return store.create_role(name, WORKSPACE, description=f"Members of the hub group {group}")
        except MlflowException:  # created by another worker meanwhile
            return store.get_role_by_name(WORKSPACE, name)


def _text(status: int, message: str) -> Response:
    response = make_response(message + "\n", status)
    response.mimetype = "text/plain"
    return response


@functools.lru_cache(maxsize=1)
def identity() -> HubIdentity:
    """This worker process's :class:`HubIdentity` (MLflow calls :func:`authenticate` as a bare function)."""
    return HubIdentity(json.loads(os.environ[OPTIONS_ENV]))


def authenticate() -> Authorization | Response:
    """MLflow's ``authorization_function`` (set in the auth config the launcher writes)."""
    return identity().authenticate()
