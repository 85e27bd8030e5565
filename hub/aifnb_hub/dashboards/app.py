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
from .runners import Runners, RunnerError
from .store import Dashboard, DashboardStore, StoreError, slugify
from .viewers import Viewers

TEMPLATES = Path(__file__).resolve().parent / "templates"
log = logging.getLogger("aifnb.dashboards")
PLATFORM_AUTHOR = "AI Factory"


class DashboardsApp:
    """Everything the handlers share; built once by :func:`aifnb_hub.dashboards.service.main`."""

    def __init__(self, options: DashboardsSection, prefix: str, hub_api_url: str, api_token: str):
        self.options = options
        self.prefix = prefix
        self.hub_api_url = hub_api_url.rstrip("/")
        self.api_token = api_token
        self.store = DashboardStore(options.store_dir)
        self.runners = Runners(options, prefix)
        self.viewers = Viewers(options.max_kernels, options.leave_grace, options.connect_timeout)
        self.catalogue = self._catalogue()
        self.templates = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
        self._groups: tuple[float, set[str]] = (0.0, set())

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

    async def publish(
        self,
        author: str,
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
        """Check a publish request (publisher rights are checked by the caller) and store it."""
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
        dashboard = self.store.publish(
            notebook,
            slug=slug or slugify(title),
            title=title,
            author=author,
            groups=groups,
            description=description,
            service=service_value,
            sector=sector_value,
            source=source or None,
            thumbnail=thumbnail,
        )
        log.info("%s published %s version %s for %s", author, dashboard.slug, dashboard.version, dashboard.groups)
        self.warm(dashboard)
        return dashboard

    def _entry(self, source: str) -> Entry:
        if self.catalogue is None:
            raise StoreError("no catalogue on this hub: give service and sector instead of source")
        try:
            return self.catalogue.get(source)
        except KeyError:
            raise StoreError(f"{source} is not in the catalogue") from None

    def unpublish(self, slug: str) -> bool:
        self.runners.stop(slug)
        return self.store.unpublish(slug)

    def publish_defaults(self) -> None:
        """The platform's own dashboards, so a new hub opens on a populated gallery.

        A catalogue notebook is (re)published when absent or changed, unless a trainer has
        replaced it since; a missing or non-dashboard entry is skipped with a log line.
        """
        for default in self.options.defaults:
            try:
                entry = self._entry(default.path)
            except StoreError as exc:
                log.warning("default dashboard %s skipped: %s", default.path, exc)
                continue
            path = self.catalogue.file(entry)
            if not entry.dashboard or not path.is_file():
                log.warning("default dashboard %s skipped: %s", default.path, "not a dashboard" if path.is_file() else "file missing")
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
            asyncio.ensure_future(self._warm([dashboard]))

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
        for slug, version in self.runners.keys():
            current = self.store.get(slug)
            if (current is None or current.version != version) and not self.viewers.in_use(slug, version):
                log.info("retiring %s version %s", slug, version)
                self.runners.stop(slug, version)
        for slug in {d.slug for d in self.store.all()}:
            self.store.retire(slug, keep=self.runners.versions(slug))

    def render(self, template: str, **context) -> str:
        hub_home = os.environ.get("JUPYTERHUB_BASE_URL", "/") + "hub/home"
        return self.templates.get_template(template).render(prefix=self.prefix, hub_home=hub_home, **context)
