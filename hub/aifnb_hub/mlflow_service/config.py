"""JupyterHub configuration of the MLflow service: the managed service, its role, the sessions' environment.

Least privilege: the service's own token may only read user names and their groups (to mirror
groups into MLflow roles); every user may use the service (``access:services!service=mlflow``,
added to the default ``user`` role), and a session's token carries that scope so the session
logs to MLflow with its hub token and no password.
"""

from __future__ import annotations

import json
import socket
import sys
from urllib.parse import urlsplit

from traitlets.config import Config

from ..settings import Settings, SettingsError
from . import ACCESS_SCOPE, OPTIONS_ENV, SERVICE_NAME

SERVICE_SCOPES = ["read:users:name", "read:users:groups"]
#: Added to a session's token: use this service (its batch jobs get a token from the service itself).
SESSION_SCOPES = [ACCESS_SCOPE]
#: Seconds the hub waits at start for the service to answer.
START_TIMEOUT = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tracking_uri(s: Settings) -> str:
    """The service's URL as sessions and jobs reach it: through the hub's public URL (the proxy)."""
    return f"{s.hub.bind_url.rstrip('/')}/services/{SERVICE_NAME}"


def service_options(s: Settings, port: int) -> dict:
    """The resolved settings the service reads: defaults under hub.data_dir filled in."""
    m = s.mlflow
    state = s.hub.data_dir / "mlflow"
    public = urlsplit(s.hub.bind_url)
    host = public.netloc
    return {
        **m.model_dump(mode="json"),
        "port": port,
        "state_dir": str(state),
        "backend_store_uri": m.backend_store_uri or f"sqlite:///{state / 'mlflow.db'}",
        "auth_database_uri": m.auth_database_uri or f"sqlite:///{state / 'auth.db'}",
        "artifacts_destination": m.artifacts_destination or str(state / "artifacts"),
        "prefix": f"/services/{SERVICE_NAME}/",
        "public_url": s.hub.bind_url,
        "public_origin": f"{public.scheme}://{host}",
        "allowed_hosts": sorted(
            {host, public.hostname or host, "localhost", f"localhost:{port}", f"127.0.0.1:{port}", "127.0.0.1"}
        ),
    }


def _session_token(spawner) -> str:
    return spawner.api_token


def apply_mlflow(c: Config, s: Settings) -> None:
    """Add the service, its role and the user role's access scope, and the sessions' MLflow variables."""
    if not s.mlflow.enabled:
        return
    unknown = sorted(set(s.mlflow.admin_groups) - set(s.groups))
    if unknown:
        raise SettingsError(f"mlflow.admin_groups: unknown group(s) {', '.join(unknown)}")
    options = service_options(s, s.mlflow.port or free_port())
    service = {
        "name": SERVICE_NAME,
        "url": f"http://127.0.0.1:{options['port']}",
        "command": [sys.executable, "-m", "aifnb_hub.mlflow_service.service"],
        "environment": {OPTIONS_ENV: json.dumps(options)},
        "oauth_no_confirm": True,
        "display": True,
        # The hub waits this long for the first answer (MLflow's imports and migrations), not for the
        # server itself: a server that cannot start leaves the launcher answering 503.
        "timeout": START_TIMEOUT,
        "info": {"description": "MLflow: experiment tracking and model registry"},
    }
    c.JupyterHub.services = [*c.JupyterHub.get("services", []), service]
    roles = list(c.JupyterHub.get("load_roles", []))
    user_role = next((r for r in roles if r.get("name") == "user"), None)
    if user_role is None:
        roles.append({"name": "user", "scopes": ["self", ACCESS_SCOPE]})
    else:
        roles[roles.index(user_role)] = {**user_role, "scopes": sorted({*user_role.get("scopes", ["self"]), ACCESS_SCOPE})}
    roles.append({"name": "mlflow-service", "scopes": SERVICE_SCOPES, "services": [SERVICE_NAME]})
    c.JupyterHub.load_roles = roles
    existing = c.Spawner.get("server_token_scopes", [])
    c.Spawner.server_token_scopes = [*existing, *(s for s in SESSION_SCOPES if s not in existing)]
    environment = c.Spawner.get("environment", {})
    environment["MLFLOW_TRACKING_URI"] = tracking_uri(s)
    # The session's own hub token (JupyterHub's JUPYTERHUB_API_TOKEN), sent as a bearer token.
    environment["MLFLOW_TRACKING_TOKEN"] = _session_token
    environment["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(s.mlflow.request_retries)
    environment["MLFLOW_EXPERIMENT_NAME"] = _default_experiment
    c.Spawner.environment = environment
    c.JupyterHub.template_vars = {**c.JupyterHub.get("template_vars", {}), "mlflow_url": f"/services/{SERVICE_NAME}/"}


def _default_experiment(spawner) -> str:
    """Each user's own experiment until a notebook picks another (the shared Default one is not theirs)."""
    return spawner.user.name
