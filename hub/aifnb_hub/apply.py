"""Small functions that turn validated settings into JupyterHub configuration.

Each takes the traitlets config object and the settings and sets values, nothing else, so
jupyterhub_config.py stays a list of calls and each function can be tested with a plain Config.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from traitlets.config import Config

from aifnb_slurm.validate import USERNAME, anchored

from .auth import auth_state_key
from .catalogue import DEFAULT_CATALOGUE_PATH, Catalogue
from .journey.config import apply_journey
from .journey.handlers import PROGRESS_SCOPE
from .settings import ROLE_GROUPS, Settings, SettingsError

CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]


def apply_hub(c: Config, s: Settings) -> None:
    data = s.hub.data_dir
    c.JupyterHub.bind_url = s.hub.bind_url
    c.JupyterHub.hub_ip = s.hub.hub_ip
    c.JupyterHub.hub_port = s.hub.hub_port
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.hub.proxy_api_port}"
    if s.hub.hub_connect_ip:
        c.JupyterHub.hub_connect_ip = s.hub.hub_connect_ip
    db_url = s.hub.db_url or f"sqlite:///{data / 'jupyterhub.sqlite'}"
    if db_url.startswith("postgresql://"):
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; the platform ships psycopg2.
        db_url = "postgresql+psycopg2://" + db_url.removeprefix("postgresql://")
    c.JupyterHub.db_url = db_url
    c.JupyterHub.cookie_secret_file = str(data / "jupyterhub_cookie_secret")
    # Everything the hub writes is in data_dir, nothing in its working directory (JupyterHub's
    # default pid file is relative): a non-root hub's cwd is usually not its own.
    c.ConfigurableHTTPProxy.pid_file = str(data / "jupyterhub-proxy.pid")
    # The proxy goes when the hub goes, also when the hub fails half-way through starting.
    c.JupyterHub.proxy_class = "aifnb_hub.proxy.OwnedProxy"
    # Sessions are Slurm jobs: a hub restart must not cancel them.
    c.JupyterHub.cleanup_servers = False
    c.Spawner.start_timeout = s.hub.start_timeout
    c.Spawner.http_timeout = s.hub.http_timeout
    c.Spawner.default_url = f"/lab/tree/{s.content.target_dir}"


def apply_home(c: Config, s: Settings, catalogue: Catalogue) -> None:
    """The services home (the catalogue's notebooks by service, progress, pathway, workshops), its
    one-click links, the progress endpoint and the trainers' view: aifnb_hub.journey."""
    apply_journey(c, s, catalogue)


def apply_auth(c: Config, s: Settings, environ: dict[str, str] | None = None) -> None:
    """The login: demo (loopback, shared password) or OIDC; refuses to choose when auth.mode is unset."""
    environ = os.environ if environ is None else environ
    c.Authenticator.allow_all = False
    # Hub users are Unix users who run Slurm jobs: the one username pattern, anchored for re.match.
    c.Authenticator.username_pattern = anchored(USERNAME)
    if s.auth.mode is None:
        raise SettingsError(
            "auth.mode: not set, and there is no default: set auth.mode: oidc (the centre's identity provider, "
            "README 'Identity') or auth.mode: demo (one shared password, loopback only) in the site file"
        )
    if s.auth.mode == "demo":
        # Demo only: one shared password, users and groups from the settings file.
        c.JupyterHub.authenticator_class = "aifnb_hub.auth.DemoAuthenticator"
        c.SharedPasswordAuthenticator.user_password = s.auth.demo.password
        c.Authenticator.allowed_users = set(s.users)
        c.JupyterHub.load_groups = {name: {"users": list(g.users)} for name, g in s.groups.items()}
        return
    oidc = s.auth.oidc
    secret = environ.get(oidc.client_secret_env, "")
    if not secret:
        raise SettingsError(f"auth.oidc: environment variable {oidc.client_secret_env} (the client secret) is not set")
    c.JupyterHub.authenticator_class = "aifnb_hub.auth.FactoryOIDCAuthenticator"
    a = c.FactoryOIDCAuthenticator
    a.client_id = oidc.client_id
    a.client_secret = secret
    a.authorize_url = oidc.authorize_url
    a.token_url = oidc.token_url
    a.userdata_url = oidc.userdata_url
    a.oauth_callback_url = oidc.callback_url
    a.scope = list(oidc.scope)
    a.username_claim = oidc.username_claim
    # Group membership comes from the provider at each login and each refresh (JupyterHub's
    # load_groups is not set: with manage_groups the authenticator owns the groups).
    a.manage_groups = True
    a.auth_state_groups_key = f"oauth_user.{oidc.groups_claim}"
    a.strip_group_prefix = oidc.strip_group_prefix
    a.platform_groups = set(s.groups)
    a.allowed_groups = set(ROLE_GROUPS) | set(oidc.allowed_groups)
    a.admin_groups = {"admins"}
    # Tokens and the bound `sub` live in the encrypted auth state; groups are re-read every
    # refresh_age seconds, and a user whose groups cannot be confirmed must log in again.
    a.enable_auth_state = True
    a.auth_refresh_age = oidc.refresh_age
    a.auth_refresh_strict = True
    if not environ.get("JUPYTERHUB_CRYPT_KEY"):
        c.CryptKeeper.keys = [auth_state_key(s.hub.data_dir)]


def apply_roles(c: Config, s: Settings) -> None:
    """The admin role (demo: the admins group; OIDC: admin_groups sets the flag) and the culler's role."""
    roles = [
        {"name": "idle-culler", "scopes": CULLER_SCOPES, "services": ["idle-culler"]},
        # Every user may report and read their own progress; their sessions' tokens carry it too.
        {"name": "user", "scopes": ["self", f"{PROGRESS_SCOPE}!user"]},
    ]
    if s.auth.mode != "oidc":
        # With OIDC the group exists only after its first member logs in; naming it here would
        # crash a fresh database, and admin_groups already makes the admins hub admins.
        roles.insert(0, {"name": "admin", "groups": ["admins"]})
    c.JupyterHub.load_roles = roles


def apply_spawner(c: Config, s: Settings, content_repo: str, content_git_config: str = "", site_settings: str = "") -> None:
    prefix = s.hub.python_prefix or sys.prefix
    c.JupyterHub.spawner_class = "aifnb_spawners.spawner.FactorySlurmSpawner"
    c.FactorySlurmSpawner.profiles = [p.model_dump(mode="json", exclude_none=True) for p in s.profiles]
    c.FactorySlurmSpawner.python_prefix = prefix
    c.FactorySlurmSpawner.content_repo = content_repo
    c.FactorySlurmSpawner.content_git_config = content_git_config
    c.FactorySlurmSpawner.content_branch = s.content.branch
    c.FactorySlurmSpawner.content_dir = s.content.target_dir
    c.FactorySlurmSpawner.req_prologue = s.hub.prologue
    c.FactorySlurmSpawner.usage_log = str(s.hub.usage_log)
    c.FactorySlurmSpawner.workshops = [w.model_dump(mode="json", exclude_none=True) for w in s.workshops]
    # The session's token may read the user's groups: batch jobs are checked against the
    # profiles of those groups from inside the session.
    c.Spawner.server_token_scopes = [
        "users:activity!user",
        "access:servers!server",
        "read:users:name!user",
        "read:users:groups!user",
        f"{PROGRESS_SCOPE}!user",
    ]
    # JupyterHub passes no PATH to the job; it is also the PATH sbatch and squeue run with.
    c.Spawner.environment = {"PATH": f"{prefix}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    if site_settings:
        # Sessions read the same profiles (batch jobs from a notebook use them too).
        c.Spawner.environment["AIFNB_SETTINGS"] = site_settings


def apply_culler(c: Config, s: Settings) -> None:
    command = [
        sys.executable,
        "-m",
        "jupyterhub_idle_culler",
        f"--timeout={s.culling.timeout}",
        f"--cull-every={s.culling.every}",
    ]
    if s.culling.max_age:
        command.append(f"--max-age={s.culling.max_age}")
    c.JupyterHub.services = [*c.JupyterHub.get("services", []), {"name": "idle-culler", "command": command}]


def content_source(s: Settings) -> Path:
    """Where the published courses and sandboxes come from: settings, else the platform's notebooks/.

    A checkout has notebooks/ beside the packages; an installed wheel does not carry it, so there
    content.source must name it (the hub stops here otherwise, naming the key).
    """
    source = s.content.source or DEFAULT_CATALOGUE_PATH.parent
    if not (source / "catalogue.yaml").is_file():
        raise SettingsError(
            f"content.source: {source} holds no catalogue.yaml; set content.source to the platform's notebooks/ folder"
        )
    return source
