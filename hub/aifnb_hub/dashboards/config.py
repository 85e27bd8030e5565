"""JupyterHub configuration of the dashboards service: the managed service, its scopes and roles.

Least privilege: the service itself may only list group names (to check what a dashboard is
shared with); every user may open the service (per-dashboard groups are checked inside it);
only the trainers and admins groups hold the custom publish scope, which the service's OAuth
tokens and the session tokens carry when their owner holds it.
"""

from __future__ import annotations

import os
import sys

from traitlets.config import Config

from ..settings import Settings, SettingsError
from . import ACCESS_SCOPE, PUBLISH_SCOPE, SERVICE_NAME
from .runners import free_port, not_root_message

PUBLISHER_GROUPS = ["trainers", "admins"]
#: Scopes of a session's JUPYTERHUB_API_TOKEN: JupyterHub's `server` role plus the dashboards
#: ones, so `aifnb-publish` works from a trainer's session (the hub keeps only those the owner holds).
SERVER_TOKEN_SCOPES = ["users:activity!user", "access:servers!server", ACCESS_SCOPE, PUBLISH_SCOPE]


def apply_dashboards(c: Config, s: Settings, environ: dict[str, str] | None = None, euid: int | None = None) -> None:
    """Add the service, its scopes and roles; a hub that is not root stops here, naming the setting.

    The service runs as the hub's account and switches each dashboard to a uid of its own; one
    that is not root could only run trainers' code as the hub's account (database, cookie secret,
    sudo rule), so it is refused before anything starts.
    """
    if not s.dashboards.enabled:
        return
    euid = os.geteuid() if euid is None else euid
    if euid != 0:
        raise SettingsError(not_root_message(euid))
    environ = os.environ if environ is None else environ
    options = s.dashboards.model_copy(
        update={
            "port": s.dashboards.port or free_port(),
            "store_dir": s.dashboards.store_dir or s.hub.data_dir.parent / "dashboards",
        }
    )
    environment = {"AIFNB_DASHBOARDS": options.model_dump_json(), "JUPYTER_NO_CONFIG": "1"}
    if environ.get("AIFNB_CATALOGUE"):
        environment["AIFNB_CATALOGUE"] = environ["AIFNB_CATALOGUE"]
    service = {
        "name": SERVICE_NAME,
        "url": f"http://127.0.0.1:{options.port}",
        "command": [sys.executable, "-m", "aifnb_hub.dashboards.service"],
        "environment": environment,
        "oauth_client_allowed_scopes": [PUBLISH_SCOPE],
        "oauth_no_confirm": True,
        "display": True,
        "info": {"description": "Gallery of the dashboards published by the trainers"},
    }
    c.JupyterHub.services = [*c.JupyterHub.get("services", []), service]
    c.JupyterHub.custom_scopes = {
        **c.JupyterHub.get("custom_scopes", {}),
        PUBLISH_SCOPE: {"description": "Publish, replace and unpublish dashboards in the gallery"},
    }
    c.JupyterHub.load_roles = [
        *c.JupyterHub.get("load_roles", []),
        {"name": "dashboards-service", "scopes": ["list:groups", "read:groups:name"], "services": [SERVICE_NAME]},
        {"name": "dashboards-viewer", "scopes": [ACCESS_SCOPE], "groups": sorted(s.groups)},
        {"name": "dashboards-publisher", "scopes": [ACCESS_SCOPE, PUBLISH_SCOPE], "groups": PUBLISHER_GROUPS},
    ]
    existing = c.Spawner.get("server_token_scopes", [])
    c.Spawner.server_token_scopes = [*existing, *(x for x in SERVER_TOKEN_SCOPES if x not in existing)]
    gallery = f"{s.hub.bind_url.rstrip('/')}/services/{SERVICE_NAME}/"
    c.Spawner.environment = {**c.Spawner.get("environment", {}), "AIFNB_DASHBOARDS_URL": gallery}
    c.JupyterHub.template_vars = {**c.JupyterHub.get("template_vars", {}), "dashboards_url": f"/services/{SERVICE_NAME}/"}
