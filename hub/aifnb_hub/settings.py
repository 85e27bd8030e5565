"""The one settings file of a deployment, and the schema that checks it before the hub starts.

Every section is a frozen pydantic model that forbids unknown keys, so a misspelt key stops the
hub at start-up with the key's path in the message instead of being silently ignored.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aifnb_data.config import DataCatalogueSettings
from aifnb_slurm.profiles import Profile, ProfileList, Workshop
from aifnb_slurm.validate import GROUPNAME, USERNAME, checked_str

DEFAULT_SETTINGS = Path(__file__).with_name("settings.yaml")

Username = checked_str(USERNAME, "user names are 1-32 of a-z, 0-9, '_', '-', not starting with a digit or '-'")
GroupName = checked_str(GROUPNAME, "group names are 1-32 of a-z, 0-9, '_', '-', starting with a letter")

#: Groups the platform gives a meaning to; a deployment may add others.
ROLE_GROUPS = ("learners", "companies", "trainers", "admins")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSection(_Section):
    bind_url: str = Field("http://127.0.0.1:8000", description="Public URL the proxy listens on")
    hub_ip: str = Field("127.0.0.1", description="Address the hub API listens on; compute nodes must reach it")
    hub_port: int = Field(8081, ge=1, le=65535, description="Port of the hub API")
    hub_connect_ip: str = Field("", description="Address jobs use to reach the hub, if not hub_ip")
    proxy_api_port: int = Field(8001, ge=1, le=65535, description="Port of configurable-http-proxy's API (loopback)")
    data_dir: Path = Field(Path("/var/lib/aifnb/hub"), description="Database, cookie secret and proxy token")
    python_prefix: str = Field("", description="Python environment on the compute nodes; empty: the hub's own")
    start_timeout: int = Field(600, ge=30, description="Seconds a session may take from submission to ready")
    http_timeout: int = Field(120, ge=10, description="Seconds the hub waits for a started server to answer")
    prologue: str = Field("", description="Admin-written shell lines run in the job before the server (module load …)")
    usage_log: Path = Field(
        Path("/var/lib/aifnb/usage/sessions.jsonl"),
        description="JSONL of session starts and stops, for usage reports where Slurm has no accounting",
    )
    db_url: str = Field(
        "",
        description="Hub database. Empty: SQLite in data_dir (the embedded default). Production: "
        "postgresql://USER@HOST:PORT/DB, the password in PGPASSWORD or the hub user's ~/.pgpass (libpq), "
        "never in this file",
    )

    @field_validator("db_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        if not value:
            return value
        found = re.fullmatch(r"(postgresql(?:\+psycopg2)?|sqlite)://(?:([^:@/]*)(:[^@/]*)?@)?(.*)", value, flags=re.ASCII)
        if not found:
            raise ValueError("must be postgresql://USER@HOST:PORT/DB or sqlite:////PATH")
        if found.group(3):
            raise ValueError("holds a password: put it in PGPASSWORD or the hub user's ~/.pgpass, not in the settings file")
        return value


class DemoAuth(_Section):
    password: str = Field(min_length=8, description="Shared password of the demo users. NOT FOR PRODUCTION.")
    allow_non_loopback: bool = Field(
        False,
        description="Serve demo mode (one shared password for every demo user) on a hub.bind_url other than "
        "loopback. NOT FOR PRODUCTION: anyone who can reach the hub and knows the password logs in",
    )


class OidcAuth(_Section):
    client_id: str = Field(description="Client id of the hub at the identity provider")
    client_secret_env: str = Field("AIFNB_OIDC_CLIENT_SECRET", description="Environment variable holding the secret")
    authorize_url: str = Field(description="The provider's authorization endpoint")
    token_url: str = Field(description="The provider's token endpoint")
    userdata_url: str = Field(description="The provider's userinfo endpoint; also probed at hub start")
    callback_url: str = Field(description="https://<hub>/hub/oauth_callback, as registered at the provider")
    scope: tuple[str, ...] = Field(("openid", "profile", "email", "groups"), description="Scopes the hub asks for")
    username_claim: str = Field(
        "preferred_username",
        description="Claim whose value is the hub (and Unix) user name, used as is: not lower-cased, refused "
        "unless it is already a valid name and not a system account",
    )
    groups_claim: str = Field("groups", description="Claim listing the user's groups")
    strip_group_prefix: str = Field(
        "", description="Removed from the start of each group the provider sends; '/' for Keycloak's full group paths"
    )
    allowed_groups: tuple[GroupName, ...] = Field(
        (), description="Groups whose members may log in besides learners, companies, trainers and admins"
    )
    refresh_age: int = Field(
        300,
        ge=1,
        le=86400,
        description="Seconds after which a user's groups are checked again with the provider; a user removed "
        "from every allowed group loses their browser session and API tokens at their next request after it",
    )


class AuthSection(_Section):
    mode: Literal["demo", "oidc"] | None = Field(
        None,
        description="How people log in: oidc (the centre's identity provider) or demo (one shared password, "
        "loopback only). No default: the hub does not start until a site file says which",
    )
    demo: DemoAuth | None = Field(None, description="Settings of mode demo")
    oidc: OidcAuth | None = Field(None, description="Settings of mode oidc")

    @model_validator(mode="after")
    def _mode_configured(self) -> AuthSection:
        if self.mode is not None and getattr(self, self.mode) is None:
            raise ValueError(f"auth.mode is {self.mode!r} but the auth.{self.mode} section is missing")
        return self


def is_loopback_url(url: str) -> bool:
    """True when ``url``'s host is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Group(_Section):
    description: str = ""
    users: tuple[Username, ...] = ()
    unix_group: GroupName | None = Field(
        None,
        description="Unix group of the members, which Slurm's partitions (AllowGroups) and the "
        "filesystem check; default aifnb-<group name>",
    )
    trainers: tuple[Username, ...] = Field(
        (),
        description="Users who teach this group: they see its members' progress and its workshops "
        "(/hub/aifnb/progress); admins see every group's",
    )


class CullingSection(_Section):
    timeout: int = Field(3600, ge=60, description="Hub-wide idle limit (s); profiles' idle_timeout stops GPU sessions sooner")
    every: int = Field(300, ge=10, description="Seconds between culler passes")
    max_age: int = Field(0, ge=0, description="Stop any server older than this (s); 0: no limit")


class ContentSection(_Section):
    source: Path | None = Field(None, description="Folder with courses/ and sandboxes/; default: the platform's notebooks/")
    repo: str = Field("/var/lib/aifnb/content", description="Git repository sessions pull from (a path is published at start)")
    branch: str = "main"
    target_dir: str = Field("ai-factory", pattern=r"^[A-Za-z0-9_.-]+$", description="Folder in the user's home")


class DefaultDashboard(_Section):
    path: str = Field(description="Catalogue path of a notebook with dashboard: true (e.g. sandboxes/bias_assessment.ipynb)")
    groups: tuple[GroupName, ...] = Field(ROLE_GROUPS, min_length=1, description="Groups it is shared with")


class DashboardsSection(_Section):
    enabled: bool = Field(True, description="Run the dashboards service (gallery and Voilà dashboards) beside the hub")
    port: int = Field(0, ge=0, le=65535, description="Loopback port of the dashboards service; 0: a free one at start")
    store_dir: Path | None = Field(None, description="Published dashboards, one folder per version; default: beside hub.data_dir")
    max_kernels: int = Field(8, ge=1, description="Concurrent viewers (kernels) per dashboard; more get a 'busy' page")
    execution_timeout: int = Field(120, ge=5, description="Seconds a dashboard cell may run before Voilà stops it")
    leave_grace: int = Field(20, ge=1, description="Seconds after a viewer's connection closes before its kernel is shut down")
    connect_timeout: int = Field(
        60, ge=5, description="Seconds a rendered page has to connect to its kernel before it is shut down"
    )
    idle_timeout: int = Field(900, ge=60, description="Voilà culls kernels idle this long (s), a backstop to leave_grace")
    preheat: int = Field(1, ge=0, le=8, description="Pre-rendered kernels kept ready per dashboard (Voilà preheat); 0: off")
    max_kernels_per_user: int = Field(3, ge=1, description="Viewer kernels one user may hold at once, all dashboards together")
    max_kernels_total: int = Field(32, ge=1, description="Viewer kernels of all dashboards together (memory of the service host)")
    max_body_mib: int = Field(
        8, ge=1, le=64, description="Largest request body (MiB) the service reads; bigger ones are refused unread"
    )
    kernel_uids: tuple[int, int] = Field(
        (64000, 64999),
        description="First and last uid of the pool dashboard kernels run as, one uid per running dashboard "
        "(uids with an account in the passwd database are skipped); the service must run as root",
    )
    defaults: tuple[DefaultDashboard, ...] = Field((), description="Catalogue notebooks published at start by the platform")

    @model_validator(mode="after")
    def _uid_pool(self) -> DashboardsSection:
        first, last = self.kernel_uids
        if not 1000 <= first <= last < 2**31:
            raise ValueError(f"dashboards.kernel_uids: [{first}, {last}] must be a range of uids from 1000 up")
        return self


class MlflowSection(_Section):
    enabled: bool = Field(
        False,
        description="Run the MLflow tracking server and model registry as a hub service at /services/mlflow/, "
        "identity from the hub (browser: hub login; sessions and jobs: their hub API token)",
    )
    port: int = Field(0, ge=0, le=65535, description="Loopback port of the MLflow server; 0: a free one at start")
    workers: int = Field(2, ge=1, le=32, description="MLflow server worker processes (uvicorn)")
    backend_store_uri: str = Field(
        "",
        description="Runs, metrics and the model registry: a SQLAlchemy URI (postgresql://user@host/db for "
        "production); empty: SQLite in mlflow/ beside hub.data_dir's database",
    )
    auth_database_uri: str = Field(
        "",
        description="MLflow's users and permissions (its auth app); empty: SQLite in the same folder. Point it "
        "at PostgreSQL together with backend_store_uri",
    )
    artifacts_destination: str = Field(
        "",
        description="Where artifacts and models are stored, served through the service (a path on the shared "
        "filesystem, or s3://...); empty: mlflow/artifacts beside the hub's database",
    )
    default_permission: Literal["NO_PERMISSIONS", "READ"] = Field(
        "NO_PERMISSIONS",
        description="What users get on experiments and models they neither own nor were shared: NO_PERMISSIONS "
        "(private by default) or READ (everyone reads everything)",
    )
    admin_groups: tuple[GroupName, ...] = Field(
        ("admins",), description="Hub groups whose members are MLflow admins (manage every experiment and model)"
    )
    request_retries: int = Field(
        2,
        ge=0,
        le=10,
        description="MLFLOW_HTTP_REQUEST_MAX_RETRIES of sessions: how often a client retries before it reports "
        "the service as down (MLflow's own default waits minutes)",
    )


Url = checked_str(
    r"(?:https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?)?/[A-Za-z0-9._~%/?#&=+:@-]*",
    "links are http(s)://HOST/PATH or a path on this site starting with '/'",
)
CataloguePath = checked_str(r"[a-z0-9][a-z0-9_-]*/[A-Za-z0-9_.-]+\.ipynb", "catalogue paths look like sandboxes/NAME.ipynb")
ServiceId = checked_str(r"[a-z][a-z0-9-]{0,31}", "service ids are 1-32 of a-z, 0-9, '-', starting with a letter")


class Link(_Section):
    title: str = Field(min_length=1, max_length=120)
    url: Url


class HomeService(_Section):
    """One of the Factory's services as an entry point on the home page."""

    title: str = Field(min_length=1, max_length=60)
    summary: str = Field("", max_length=500, description="What it offers on this platform; empty with no links: not shown")
    catalogue: Literal["Upskill", "Assess", "Build & Test", "Scale & Run"] | None = Field(
        None, description="The catalogue's service whose notebooks it lists (catalogue.yaml's service field)"
    )
    links: tuple[Link, ...] = Field((), description="The centre's own pages (Inspire, Fund, Connect)")


class PathwayStep(_Section):
    """A step of the SME pathway: a catalogue notebook a company works through, in order."""

    id: checked_str(r"[a-z0-9][a-z0-9_.-]{0,63}", "step ids are 1-64 of a-z, 0-9, '_', '.', '-'")
    path: CataloguePath
    text: str = Field(min_length=1, max_length=300, description="Why this step, in a sentence")


class HomeSection(_Section):
    services: dict[ServiceId, HomeService] = Field(
        default_factory=dict, description="The Factory's services on the home page, in this order"
    )
    profiles: dict[Literal["cpu", "gpu"], tuple[str, ...]] = Field(
        default_factory=dict,
        description="Profiles a catalogue notebook's profile (cpu, gpu) starts, the first one the user may use; "
        "unset: the profiles without GPUs for cpu, with GPUs for gpu, in the profiles' order",
    )
    audiences: dict[Literal["learner", "company", "trainer"], tuple[GroupName, ...]] = Field(
        default_factory=dict,
        description="Groups that see the notebooks of each catalogue audience (admins see all)",
    )
    pathway_groups: tuple[GroupName, ...] = Field(("companies",), description="Groups shown the SME pathway")
    pathway: tuple[PathwayStep, ...] = Field((), description="The SME pathway, the maturity self-assessment first")


class Settings(_Section):
    hub: HubSection = HubSection()
    auth: AuthSection = Field(AuthSection(), description="Login: see AuthSection; auth.mode has no default")
    groups: dict[GroupName, Group]
    profiles: tuple[Profile, ...]
    culling: CullingSection = CullingSection()
    content: ContentSection = ContentSection()
    dashboards: DashboardsSection = DashboardsSection()
    mlflow: MlflowSection = MlflowSection()
    home: HomeSection = HomeSection()
    workshops: tuple[Workshop, ...] = Field((), description="Class sessions: group, window, profile, Slurm reservation")
    data_catalogue: DataCatalogueSettings = Field(
        DataCatalogueSettings(), description="Models and datasets catalogue: files, roots, access log (aifnb_data.config)"
    )

    @model_validator(mode="after")
    def _home_and_workshops(self) -> Settings:
        slugs = {p.slug: p for p in self.profiles}
        for kind, names in self.home.profiles.items():
            for name in names:
                if name not in slugs:
                    raise ValueError(f"home.profiles.{kind}: unknown profile {name}; profiles are {', '.join(slugs)}")
        for audience, groups in self.home.audiences.items():
            unknown = sorted(set(groups) - set(self.groups))
            if unknown:
                raise ValueError(f"home.audiences.{audience}: unknown group(s) {', '.join(unknown)}")
        unknown = sorted(set(self.home.pathway_groups) - set(self.groups))
        if unknown:
            raise ValueError(f"home.pathway_groups: unknown group(s) {', '.join(unknown)}")
        seen: set[str] = set()
        for w in self.workshops:
            if w.slug in seen:
                raise ValueError(f"workshops.{w.slug}: listed twice")
            seen.add(w.slug)
            self.check_workshop(w, f"workshops.{w.slug}.")
        return self

    def check_workshop(self, w: Workshop, where: str = "") -> None:
        """ValueError naming the field when ``w``'s group or profile does not fit these settings
        (the settings file's workshops and those declared on the hub's form alike)."""
        slugs = {p.slug: p for p in self.profiles}
        if w.group not in self.groups:
            raise ValueError(f"{where}group: unknown group {w.group}")
        if w.profile not in slugs:
            raise ValueError(f"{where}profile: unknown profile {w.profile}; profiles are {', '.join(slugs)}")
        if w.group not in slugs[w.profile].groups:
            raise ValueError(f"{where}profile: {w.profile} is not open to group {w.group} (profiles.{w.profile}.groups)")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        ProfileList(profiles=self.profiles)
        missing = [g for g in ROLE_GROUPS if g not in self.groups]
        if missing:
            raise ValueError(f"groups: missing {', '.join(missing)} (the platform's roles need them)")
        for profile in self.profiles:
            unknown = sorted(set(profile.groups) - set(self.groups))
            if unknown:
                raise ValueError(f"profiles.{profile.slug}.groups: unknown group(s) {', '.join(unknown)}")
        return self

    @model_validator(mode="after")
    def _demo_only_on_loopback(self) -> Settings:
        demo = self.auth.demo
        if self.auth.mode == "demo" and demo and not demo.allow_non_loopback and not is_loopback_url(self.hub.bind_url):
            raise ValueError(
                f"auth.mode: demo (one shared password) is served only on a loopback hub.bind_url (127.0.0.1, ::1, "
                f"localhost), not {self.hub.bind_url}; use auth.mode: oidc, or accept the risk with "
                "auth.demo.allow_non_loopback: true"
            )
        return self

    @property
    def users(self) -> list[str]:
        return sorted({u for g in self.groups.values() for u in g.users})


class SettingsError(ValueError):
    """The settings file is not valid; the message names each bad key by its path."""


def _deep_merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc}") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: the top level must be a mapping of sections")
    return raw


def load_settings(site: Path | str | None = None) -> Settings:
    """The platform's defaults (settings.yaml beside this package) with a site file layered over.

    In the site file nested mappings merge key by key and lists replace, so a centre writes only
    what differs (its groups, its profiles, OIDC) and still gets every default.
    """
    raw = _read_yaml(DEFAULT_SETTINGS)
    name = str(DEFAULT_SETTINGS)
    if site:
        raw = _deep_merge(raw, _read_yaml(Path(site)))
        name = f"{DEFAULT_SETTINGS} + {site}"
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        lines = [f"invalid settings ({name}):"]
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"  {where}: {message}")
        raise SettingsError("\n".join(lines)) from None
