"""The MLflow app the service runs: MLflow's server with its auth app, plus the hub glue routes.

Registered as the ``aifnb-hub`` entry of MLflow's ``mlflow.app`` plugin group, so the launcher
starts it with ``mlflow server --app-name aifnb-hub``. The glue routes are served by a
``before_request`` hook registered ahead of the auth app's, under the service prefix:

* ``oauth_callback``: the end of a browser's hub login;
* ``aifnb/api/job-token`` (POST): a token for a batch job, valid on this service alone;
* ``aifnb/api/share`` (POST): share an experiment or registered model with one of the caller's
  hub groups (READ or EDIT), or take the share back (NO_PERMISSIONS). MLflow's own role API is
  for MLflow admins; this route lets an experiment's owner (MANAGE) share with their own groups.
"""

from __future__ import annotations

import json
import os

from flask import Flask, Response, make_response, request

from . import GROUP_ROLE_PREFIX
from .identity import WORKSPACE, group_role, identity

SHARE_PERMISSIONS = ("READ", "EDIT", "NO_PERMISSIONS")
RESOURCES = ("experiment", "registered_model")


def _json(status: int, body: dict) -> Response:
    response = make_response(json.dumps(body), status)
    response.mimetype = "application/json"
    return response


def share() -> Response:
    """POST {resource, id, group, permission}: the role of ``group`` gets ``permission`` on the resource."""
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth import store

    who = identity().authenticate()
    if isinstance(who, Response):
        return who
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) - {"resource", "id", "group", "permission"}:
        return _json(400, {"error": "send a JSON object with resource, id, group and permission"})
    resource, resource_id = body.get("resource", "experiment"), str(body.get("id", ""))
    group, permission = str(body.get("group", "")), str(body.get("permission", ""))
    if resource not in RESOURCES:
        return _json(400, {"error": f"resource: one of {', '.join(RESOURCES)}"})
    if permission not in SHARE_PERMISSIONS:
        return _json(400, {"error": f"permission: one of {', '.join(SHARE_PERMISSIONS)}"})
    if not resource_id:
        return _json(400, {"error": "id: the experiment id or registered model name"})
    name = who.username
    admin = store.get_user(name).is_admin
    if not admin and group not in identity().groups_of(name):
        return _json(403, {"error": f"group: you can share only with your own hub groups, not {group!r}"})
    try:
        getter = store.get_experiment_permission if resource == "experiment" else store.get_registered_model_permission
        own = getter(resource_id, name).permission
    except MlflowException:
        own = None
    if not admin and (own is None or own != "MANAGE"):
        return _json(403, {"error": f"you do not manage {resource} {resource_id!r}; its owner or an admin can share it"})
    role = group_role(group)
    current = next(
        (p for p in store.list_role_permissions(role.id) if p.resource_type == resource and p.resource_pattern == resource_id),
        None,
    )
    if permission == "NO_PERMISSIONS":
        if current is not None:
            store.remove_role_permission(current.id)
    elif current is None:
        store.add_role_permission(role.id, resource, resource_id, permission)
    else:
        store.update_role_permission(current.id, permission)
    return _json(200, {"resource": resource, "id": resource_id, "group": group, "permission": permission})


def job_token() -> Response:
    """POST {expires_in}: a token for a batch job, valid on this service alone, as the caller, until
    it expires (at most MAX_JOB_TOKEN_SECONDS). Only a hub token or browser login may ask: a job's
    token cannot renew itself."""
    who = identity().authenticate(allow_job_tokens=False)
    if isinstance(who, Response):
        return who
    body = request.get_json(silent=True)
    expires_in = body.get("expires_in") if isinstance(body, dict) else None
    if not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in <= 0:
        return _json(400, {"error": "expires_in: the token's lifetime in seconds (a positive integer)"})
    token, expires_at = identity().issue_job_token(who.username, expires_in)
    return _json(200, {"token": token, "expires_at": expires_at})


def shares() -> Response:
    """GET ?resource=&id=: the groups a resource the caller can read is shared with."""
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth import store

    who = identity().authenticate()
    if isinstance(who, Response):
        return who
    resource, resource_id = request.args.get("resource", "experiment"), request.args.get("id", "")
    found = {}
    for role in store.list_roles([WORKSPACE]):
        if role.name.startswith(GROUP_ROLE_PREFIX):
            for p in store.list_role_permissions(role.id):
                if p.resource_type == resource and p.resource_pattern == resource_id:
                    found[role.name.removeprefix(GROUP_ROLE_PREFIX)] = p.permission
    admin = store.get_user(who.username).is_admin
    if not admin and not found.keys() & set(identity().groups_of(who.username)):
        getter = store.get_experiment_permission if resource == "experiment" else store.get_registered_model_permission
        try:
            getter(resource_id, who.username)
        except MlflowException:
            return _json(403, {"error": f"{resource} {resource_id!r} is not shared with you"})
    return _json(200, {"resource": resource, "id": resource_id, "groups": found})


def create_app(app: Flask | None = None):
    """MLflow's server app with the hub glue routes and MLflow's auth app (its factory's result)."""
    from mlflow.server import app as mlflow_app
    from mlflow.server.auth import create_app as create_auth_app

    app = app or mlflow_app
    prefix = os.environ.get("MLFLOW_STATIC_PREFIX", "").rstrip("/")
    routes = {
        ("GET", f"{prefix}/oauth_callback"): lambda: identity().oauth_callback(),
        ("POST", f"{prefix}/aifnb/api/share"): share,
        ("GET", f"{prefix}/aifnb/api/shares"): shares,
        ("POST", f"{prefix}/aifnb/api/job-token"): job_token,
    }

    def glue_routes():
        if handler := routes.get((request.method, request.path)):
            return handler()
        return None

    app.before_request(glue_routes)
    served = create_auth_app(app)
    return without_assistant(served, prefix)


#: MLflow's assistant runs coding-agent tools (a Bash tool among them) on the server for requests it
#: takes for local ones; behind the hub's proxy every request comes from 127.0.0.1. Not served.
ASSISTANT_PATH = "/ajax-api/3.0/mlflow/assistant"


def without_assistant(served, prefix: str):
    """``served`` (MLflow's ASGI app) behind a guard that answers 404 to the assistant's paths."""
    blocked = prefix + ASSISTANT_PATH

    async def guarded(scope, receive, send):
        if scope["type"] in ("http", "websocket") and scope.get("path", "").startswith(blocked):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await send(
                {"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain; charset=utf-8")]}
            )
            await send({"type": "http.response.body", "body": b"MLflow's assistant is not served on this platform.\n"})
            return
        await served(scope, receive, send)

    return guarded
