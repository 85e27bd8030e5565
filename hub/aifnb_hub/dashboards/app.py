"""The service's state: store, Voilà servers, viewers, catalogue; and the publish rules they share.

Handlers (pages, API, proxy) reach it as ``self.settings["dashboards"]``; keeping the rules
here means the gallery form and the JSON API refuse exactly the same requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from pathlib import Path

import jinja2
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from ..catalogue import Catalogue, CatalogueError, Entry, Sector, Service, load_catalogue
from ..settings import DashboardsSection
from .runners import RunnerError, Runners
from .store import Dashboard, DashboardStore, StoreError, is_admin, slugify
from .viewers import Caps, Viewers

TEMPLATES = Path(__file__).resolve().parent / "templates"
log = logging.getLogger("aifnb.dashboards")
PLATFORM_AUTHOR = "AI Factory"


class NotOwnerError(Exception):
    """A publisher tried to replace or unpublish a dashboard that is not theirs; the message says whose."""


class DashboardsApp:
    """Everything the handlers share; built once by :func:`aifnb_hub.dashboards.service.main`."""

    def __init__(self, options: DashboardsSection, prefix: str, hub_api_url: str, api_token: str):
        self.options = options
        self.prefix = prefix
        self.hub_api_url = hub_api_url.rstrip("/")
        self.api_token = api_token
        self.store = DashboardStore(options.store_dir)
        self.runners = Runners(options, prefix)
        caps = Caps(dashboard=options.max_kernels, user=options.max_kernels_per_user, total=options.max_kernels_total)
        self.viewers = Viewers(caps, options.leave_grace, options.connect_timeout)
        self.catalogue = self._catalogue()
        self.templates = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
        self._groups: tuple[float, set[str]] = (0.0, set())
        self._background: set[asyncio.Task] = set()

    @staticmethod
    def _catalogue() -> Catalogue | None:
        try:
            return load_catalogue()
        except CatalogueError as exc:
            log.warning("no catalogue, dashboards get no service/sector from it: %s", exc)
            return None

    async def hub_groups(self) -> set[str]:
        """The hub's groups (cached a minute): a dashboard can only be shared with real ones."""
        stamp, groups = self._groups
        if time.monotonic() - stamp > 60:
            request = HTTPRequest(f"{self.hub_api_url}/groups", headers={"Authorization": f"token {self.api_token}"})
            response = await AsyncHTTPClient().fetch(request)
            groups = {g["name"] for g in json.loads(response.body)}
            self._groups = (time.monotonic(), groups)
        return groups

    def may_change(self, user: dict, slug: str) -> Dashboard | None:
        """The dashboard at ``slug`` if ``user`` may replace or unpublish it (None: the slug is free).

        Its owner and admins may; a publisher who can see it is told who owns it; one who cannot
        see it learns only that the slug is taken.
        """
        current = self.store.get(slug)
        if current is None or is_admin(user) or current.owner == user["name"]:
            return current
        if not current.visible_to(user):
            raise NotOwnerError(f"the slug {slug} is taken by a dashboard not shared with you; choose another slug")
        owner = "the platform" if current.owner == PLATFORM_AUTHOR else current.owner
        raise NotOwnerError(f"{slug} belongs to {owner}: only {owner} or an admin may replace or unpublish it")

    async def publish(
        self,
        user: dict,
        notebook: bytes,
        *,
        title: str,
        groups: list[str],
        description: str = "",
        slug: str = "",
        service: str = "",
        sector: str = "",
        source: str = "",
        thumbnail: bytes | None = None,
    ) -> Dashboard:
        """Check a publish request (the publish scope is checked by the caller) and store it; a
        replacement keeps its owner."""
        unknown = sorted(set(groups) - await self.hub_groups())
        if not groups or unknown:
            raise StoreError(f"share with at least one existing group (unknown: {', '.join(unknown) or 'none given'})")
        if source:
            entry = self._entry(source)
            service, sector = service or entry.service.value, sector or (entry.sector.value if entry.sector else "")
        try:
            service_value = Service(service) if service else None
            sector_value = Sector(sector) if sector else None
        except ValueError as exc:
            raise StoreError(str(exc)) from None
        slug = slug or slugify(title)
        current = self.may_change(user, slug)  # no await from here to the write: no other publish in between
        dashboard = self.store.publish(
            notebook,
            slug=slug,
            title=title,
            author=user["name"],
            owner=current.owner if current else user["name"],
            groups=groups,
            description=description,
            service=service_value,
            sector=sector_value,
            source=source or None,
            thumbnail=thumbnail,
        )
        log.info("%s published %s version %s for %s", user["name"], dashboard.slug, dashboard.version, dashboard.groups)
        self.warm(dashboard)
        return dashboard

    def _entry(self, source: str) -> Entry:
        if self.catalogue is None:
            raise StoreError("no catalogue on this hub: give service and sector instead of source")
        try:
            return self.catalogue.get(source)
        except KeyError:
            raise StoreError(f"{source} is not in the catalogue") from None

    def unpublish(self, user: dict, slug: str) -> bool:
        """Remove a dashboard the user may see (False if there is none) and may change (or NotOwnerError)."""
        current = self.store.get(slug)
        if current is None or not current.visible_to(user):
            return False
        self.may_change(user, slug)
        self.runners.stop(slug)
        log.info("%s unpublished %s", user["name"], slug)
        return self.store.unpublish(slug)

    def publish_defaults(self) -> None:
        """The platform's own dashboards, so a new hub opens on a populated gallery.

        A catalogue notebook is (re)published when absent or changed, unless an admin has
        replaced it since (it stays the platform's); a missing or non-dashboard entry is skipped
        with a log line.
        """
        for default in self.options.defaults:
            try:
                entry = self._entry(default.path)
            except StoreError as exc:
                log.warning("default dashboard %s skipped: %s", default.path, exc)
                continue
            path = self.catalogue.file(entry)
            if not entry.dashboard or not path.is_file():
                log.warning(
                    "default dashboard %s skipped: %s", default.path, "not a dashboard" if path.is_file() else "file missing"
                )
                continue
            notebook = path.read_bytes()
            slug = slugify(Path(entry.path).stem)
            current = self.store.get(slug)
            if current and (current.author != PLATFORM_AUTHOR or current.sha256 == hashlib.sha256(notebook).hexdigest()):
                continue
            self.store.publish(
                notebook,
                slug=slug,
                title=entry.title,
                author=PLATFORM_AUTHOR,
                owner=PLATFORM_AUTHOR,
                groups=list(default.groups),
                description=entry.summary,
                service=entry.service,
                sector=entry.sector,
                source=entry.path,
            )
            log.info("published default dashboard %s", entry.path)

    def warm(self, dashboard: Dashboard) -> None:
        """Start the version's Voilà server now, so its preheated kernels are ready for the first viewer."""
        if self.options.preheat:
            task = asyncio.ensure_future(self._warm([dashboard]))
            self._background.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(self._background.discard)

    async def warm_all(self) -> None:
        if self.options.preheat:
            await self._warm(self.store.all())

    async def _warm(self, dashboards: list[Dashboard]) -> None:
        for d in dashboards:
            version_dir = self.store.version_dir(d.slug, d.version)
            if version_dir:
                try:
                    await self.runners.get(d.slug, d.version, version_dir)
                except RunnerError as exc:
                    log.error("%s", exc)

    async def housekeeping(self) -> None:
        """Shut down kernels of viewers who left; retire Voilà servers and folders of replaced versions."""
        for slug, version, kernel_id in self.viewers.left():
            runner = self.runners.running(slug, version)
            if runner:
                await runner.shutdown_kernel(kernel_id)
        for slug, version in self.runners.keys():  # noqa: SIM118  (Runners.keys() is a method, not a dict's)
            current = self.store.get(slug)
            if (current is None or current.version != version) and not self.viewers.in_use(slug, version):
                log.info("retiring %s version %s", slug, version)
                self.runners.stop(slug, version)
        for slug in {d.slug for d in self.store.all()}:
            self.store.retire(slug, keep=self.runners.versions(slug))

    def render(self, template: str, **context) -> str:
        hub_home = os.environ.get("JUPYTERHUB_BASE_URL", "/") + "hub/home"
        return self.templates.get_template(template).render(prefix=self.prefix, hub_home=hub_home, **context)
