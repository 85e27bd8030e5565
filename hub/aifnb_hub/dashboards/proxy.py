"""Authorized viewers only, through to the loopback Voilà server of the version they opened.

Every request (page, static file, kernel websocket) is checked against the dashboard's groups
here; a new page also needs a free slot under the kernel cap, or it gets the 503 "busy" page
before any kernel is started. Only the paths a Voilà page needs are passed on (no tree, no
contents API), with Voilà's token added and the hub's cookies left out.
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
#: What a Voilà page loads; anything else (e.g. other notebooks, the contents API) is refused.
ALLOWED = re.compile(
    r"^(|voila/(static|templates|labextensions|api/themes|files)/.*|voila/api/shutdown/" + KERNEL_ID + r"|api/kernels/" + KERNEL_ID + r")$"
)
REQUEST_HEADERS = ("Accept", "Content-Type", "If-None-Match", "If-Modified-Since", "User-Agent", "X-XSRFToken")
RESPONSE_HEADERS = ("Content-Type", "Cache-Control", "ETag", "Last-Modified", "Expires")


class _VersionHandler(BaseHandler):
    async def runner(self, slug: str, version: str, *, start: bool) -> VoilaRunner:
        """The Voilà server of an authorized dashboard version; old versions only while still running."""
        dashboard = self.visible(slug)
        if version != dashboard.version:
            runner = self.app.runners.running(slug, version)
            if runner is None:
                raise web.HTTPError(404)
            return runner
        if not start:
            runner = self.app.runners.running(slug, version)
            if runner is None:
                raise web.HTTPError(404)
            return runner
        try:
            return await self.app.runners.get(slug, version, self.app.store.version_dir(slug, version))
        except RunnerError as exc:
            raise web.HTTPError(502, "The dashboard could not be started; the trainer has been told in the service log.") from exc


class VoilaProxyHandler(_VersionHandler):
    """Pages and static files over HTTP."""

    @web.authenticated
    async def get(self, slug: str, version: str, path: str) -> None:
        await self._proxy(slug, version, path)

    @web.authenticated
    async def post(self, slug: str, version: str, path: str) -> None:
        await self._proxy(slug, version, path)

    async def _proxy(self, slug: str, version: str, path: str) -> None:
        if not ALLOWED.match(path):
            raise web.HTTPError(404)
        page = path == "" and self.request.method == "GET"
        if page and version != self.visible(slug).version and not self.app.runners.running(slug, version):
            # A bookmark of a replaced version: open the current one.
            self.redirect(self.app.runners.base_url(slug, self.visible(slug).version))
            return
        runner = await self.runner(slug, version, start=page)
        if page and not self.app.viewers.start_render(slug, version):
            raise web.HTTPError(503)
        kernel_id = None
        try:
            response = await self._fetch(runner, path)
            if page:
                found = KERNEL_IN_PAGE.search(response.body or b"")
                kernel_id = found.group(1).decode() if found else None
        finally:
            if page:
                self.app.viewers.end_render(slug, version, kernel_id)
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
        """The one POST passed on is Voilà's kernel-shutdown beacon, which carries Voilà's XSRF token,
        not the hub's; a forged one could only stop a kernel whose random id it already knows."""


class KernelSocketProxyHandler(_VersionHandler, websocket.WebSocketHandler):
    """The kernel websocket (and Voilà's request-info socket of preheated kernels)."""

    upstream: websocket.WebSocketClientConnection | None = None

    async def get(self, slug: str, version: str, path: str, kernel_id: str) -> None:
        if self.current_user is None:
            raise web.HTTPError(403)
        runner = await self.runner(slug, version, start=False)
        offered = [p.strip() for p in self.request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        query = f"?{self.request.query}" if self.request.query else ""
        request = HTTPRequest(runner.url(path, scheme="ws") + query, headers=runner.headers)
        try:
            self.upstream = await websocket.websocket_connect(request, subprotocols=offered or None)
        except (OSError, HTTPClientError) as exc:
            raise web.HTTPError(502, f"kernel unreachable: {exc}") from None
        self.kernel_id = kernel_id if path.endswith("/channels") else None
        await super().get(slug, version, path, kernel_id)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return self.upstream.selected_subprotocol if self.upstream else None

    def open(self, *args) -> None:
        if self.kernel_id:
            self.app.viewers.connected(self.kernel_id)
        asyncio.ensure_future(self._pump())

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
