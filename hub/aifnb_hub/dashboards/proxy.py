"""Authorized viewers only, through to the loopback Voilà server of the version they opened.

A dashboard is a trainer's code, and its outputs may be HTML with scripts; served as it is on
the hub's origin, such a script could read the hub's XSRF token and act on the hub as the viewer
(mint an API token for an admin who opens it). So every proxied response carries
``Content-Security-Policy: sandbox`` without ``allow-same-origin``: the page runs with an opaque
origin, with no access to the hub's cookies, storage or same-origin requests, and the hub's
cookies are not sent with its subresource requests either. What the page itself needs is
therefore authorised without cookies:

- the page (its outputs are the dashboard's content) needs the viewer's hub login and one of
  the dashboard's groups (the top-level navigation carries the cookies), and a free slot under
  the kernel caps, or it gets the "busy" page before any kernel is started;
- its kernel (websocket, Voilà's request-info socket, shutdown beacon) is admitted by the kernel
  id the proxy wrote into that viewer's page, a 122-bit secret, while the viewer may still open
  the dashboard (:mod:`.viewers`);
- Voilà's own static files (scripts, styles, the widgets' extensions) are the same for every
  dashboard and are served to anyone who knows the unguessable version URL.

Only these paths are passed on (no tree, no contents API, no ``files/``), with Voilà's token
added and the hub's cookies left out.
"""

from __future__ import annotations

import asyncio
import re

from tornado import web, websocket
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .handlers import BaseHandler
from .runners import RunnerError, VoilaRunner

KERNEL_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
KERNEL_IN_PAGE = re.compile(rb'"kernelId":\s*"(' + KERNEL_ID.encode() + rb')"')
#: Voilà's static files, the same for every dashboard.
STATIC = re.compile(r"voila/(static|templates|labextensions|api/themes)/[A-Za-z0-9_./@~+-]*")
#: Requests about one kernel, admitted by its id (group 1).
KERNEL_PATH = re.compile(r"(?:voila/api/shutdown/|api/kernels/)(" + KERNEL_ID + ")")
REQUEST_HEADERS = ("Accept", "Content-Type", "If-None-Match", "If-Modified-Since", "User-Agent", "X-XSRFToken")
RESPONSE_HEADERS = ("Content-Type", "Cache-Control", "ETag", "Last-Modified", "Expires")
#: An opaque origin: scripts, forms, pop-ups and downloads work, nothing same-origin with the hub.
SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-downloads"
#: Which cap refused a new page, and what the viewer is told (status, reason, text).
REFUSALS = {
    "dashboard": (503, "Busy, try again", "This dashboard has as many viewers as it can serve right now. Try again in a minute."),
    "total": (503, "Busy, try again", "The dashboards serve as many viewers as they can right now. Try again in a minute."),
    "user": (
        429,
        "Too many dashboards open",
        "You have as many dashboards open as one person may. Close one; its place is free a few seconds later.",
    ),
}


class _VersionHandler(BaseHandler):
    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Content-Security-Policy", SANDBOX)

    def kernel_viewer(self, slug: str, version: str, kernel_id: str) -> dict:
        """The viewer this kernel's page was rendered for, while they may still open the dashboard."""
        user = self.app.viewers.viewer(slug, version, kernel_id)
        dashboard = self.app.store.get(slug)
        if user is None or dashboard is None or not dashboard.visible_to(user):
            raise web.HTTPError(403, "This kernel is not yours. Open the dashboard again from the gallery.")
        return user

    def running(self, slug: str, version: str) -> VoilaRunner:
        runner = self.app.runners.running(slug, version)
        if runner is None:
            raise web.HTTPError(404)
        return runner

    async def page_runner(self, slug: str, version: str) -> VoilaRunner:
        """The Voilà server of a dashboard version the viewer may open (started for the current
        version; an old version only while it still runs for the viewers who have it open)."""
        if version != self.visible(slug).version:
            return self.running(slug, version)
        try:
            return await self.app.runners.get(slug, version, self.app.store.version_dir(slug, version))
        except RunnerError as exc:
            raise web.HTTPError(502, "The dashboard could not be started; the trainer has been told in the service log.") from exc


class VoilaProxyHandler(_VersionHandler):
    """Pages, static files and the kernel shutdown beacon over HTTP."""

    async def get(self, slug: str, version: str, path: str) -> None:
        if path == "":
            page = self._page(slug, version)  # None when @web.authenticated redirected to the login
            if page is not None:
                await page
        elif STATIC.fullmatch(path):
            self.allow_opaque_origin()
            await self._respond(await self._fetch(self.running(slug, version), path))
        else:
            await self._kernel_request(slug, version, path)

    async def post(self, slug: str, version: str, path: str) -> None:
        await self._kernel_request(slug, version, path)

    def options(self, slug: str, version: str, path: str) -> None:
        """CORS preflight of the sandboxed page's requests: no credentials, only what Voilà sends."""
        if not (STATIC.fullmatch(path) or KERNEL_PATH.fullmatch(path)):
            raise web.HTTPError(404)
        self.allow_opaque_origin()
        self.set_header("Access-Control-Allow-Methods", "GET, POST")
        self.set_header("Access-Control-Allow-Headers", "Content-Type, X-XSRFToken")
        self.set_status(204)
        self.finish()

    def allow_opaque_origin(self) -> None:
        """The sandboxed page is cross-origin to everything, its own service included; these answers
        carry no credentials and are admitted by the URL alone, so any origin may read them."""
        self.set_header("Access-Control-Allow-Origin", "*")

    async def _kernel_request(self, slug: str, version: str, path: str) -> None:
        found = KERNEL_PATH.fullmatch(path)
        if not found:
            raise web.HTTPError(404)
        self.kernel_viewer(slug, version, found.group(1))
        self.allow_opaque_origin()
        await self._respond(await self._fetch(self.running(slug, version), path))

    @web.authenticated
    async def _page(self, slug: str, version: str) -> None:
        if version != self.visible(slug).version and not self.app.runners.running(slug, version):
            # A bookmark of a replaced version: open the current one.
            self.redirect(self.app.runners.base_url(slug, self.visible(slug).version))
            return
        refused = self.app.viewers.start_render(slug, version, self.current_user)  # before any server starts
        if refused:
            status, reason, text = REFUSALS[refused]
            raise web.HTTPError(status, text, reason=reason)
        kernel_id = None
        try:
            response = await self._fetch(await self.page_runner(slug, version), "")
            found = KERNEL_IN_PAGE.search(response.body or b"")
            kernel_id = found.group(1).decode() if found else None
        finally:
            self.app.viewers.end_render(slug, version, self.current_user, kernel_id)
        await self._respond(response)

    async def _respond(self, response) -> None:
        self.set_status(response.code)
        for name in RESPONSE_HEADERS:
            if name in response.headers:
                self.set_header(name, response.headers[name])
        if response.code != 304:
            self.write(response.body)
        self.finish()

    async def _fetch(self, runner: VoilaRunner, path: str):
        headers = {name: self.request.headers[name] for name in REQUEST_HEADERS if name in self.request.headers}
        query = f"?{self.request.query}" if self.request.query else ""
        request = HTTPRequest(
            runner.url(path) + query,
            method=self.request.method,
            headers={**headers, **runner.headers},
            body=self.request.body if self.request.method == "POST" else None,
            allow_nonstandard_methods=True,
            follow_redirects=False,
            request_timeout=self.app.options.execution_timeout * 10,
        )
        try:
            return await AsyncHTTPClient().fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as exc:
            raise web.HTTPError(502, f"dashboard server unreachable: {exc}") from None

    def check_xsrf_cookie(self) -> None:
        """The one POST passed on is Voilà's kernel-shutdown beacon, from the sandboxed page that has
        no hub XSRF token; it is admitted by the kernel id, which only that viewer's page knows."""


class KernelSocketProxyHandler(_VersionHandler, websocket.WebSocketHandler):
    """The kernel websocket (and Voilà's request-info socket of preheated kernels)."""

    upstream: websocket.WebSocketClientConnection | None = None

    async def get(self, slug: str, version: str, path: str, kernel_id: str) -> None:
        self.kernel_viewer(slug, version, kernel_id)  # the sandboxed page sends no hub cookie
        runner = self.running(slug, version)
        offered = [p.strip() for p in self.request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        query = f"?{self.request.query}" if self.request.query else ""
        request = HTTPRequest(runner.url(path, scheme="ws") + query, headers=runner.headers)
        try:
            self.upstream = await websocket.websocket_connect(request, subprotocols=offered or None)
        except (OSError, HTTPClientError) as exc:
            raise web.HTTPError(502, f"kernel unreachable: {exc}") from None
        self.kernel_id = kernel_id if path.endswith("/channels") else None
        await super().get(slug, version, path, kernel_id)

    def check_origin(self, origin: str) -> bool:
        """The sandboxed page's origin is opaque ('null'); the kernel id, not the origin, is what admits it."""
        return origin == "null" or super().check_origin(origin)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return self.upstream.selected_subprotocol if self.upstream else None

    def open(self, *args) -> None:
        if self.kernel_id:
            self.app.viewers.connected(self.kernel_id)
        self._pump_task = asyncio.ensure_future(self._pump())  # kept: the loop holds tasks weakly

    async def _pump(self) -> None:
        while True:
            message = await self.upstream.read_message()
            if message is None:
                self.close()
                return
            try:
                await self.write_message(message, binary=isinstance(message, bytes))
            except websocket.WebSocketClosedError:
                return

    async def on_message(self, message: str | bytes) -> None:
        await self.upstream.write_message(message, binary=isinstance(message, bytes))

    def on_close(self) -> None:
        if self.kernel_id:
            self.app.viewers.disconnected(self.kernel_id)
        if self.upstream:
            self.upstream.close()
