"""The hub-side endpoint where a session job reports its port, accepting the port and nothing else.

batchspawner's own handler ``setattr``s every key of the posted JSON on the spawner, so a job (or
anyone holding its token) could change ``ip``, ``cmd`` or any other attribute. Importing this
module swaps that handler for this one at the same URL.
"""

from __future__ import annotations

import json

from batchspawner.api import BatchSpawnerAPIHandler
from jupyterhub.apihandlers import APIHandler, default_handlers
from tornado import web

ROUTE = r"/api/batchspawner"


class PortCallbackHandler(APIHandler):
    """POST ``{"port": N}`` from the job of the server whose token authenticates the request."""

    @web.authenticated
    def post(self) -> None:
        token = self.get_auth_token()
        spawner = next((s for s in self.current_user.spawners.values() if s.api_token == token), None)
        if spawner is None:
            raise web.HTTPError(403, "this token belongs to no server of this user")
        try:
            data = json.loads(self.request.body or b"null")
        except ValueError:
            raise web.HTTPError(400, "body must be JSON") from None
        if not isinstance(data, dict) or set(data) != {"port"}:
            raise web.HTTPError(400, 'body must be exactly {"port": <integer 1-65535>}')
        port = data["port"]
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise web.HTTPError(400, "port must be an integer from 1 to 65535")
        spawner.port = port
        self.set_status(201)
        self.finish(json.dumps({"message": "port recorded"}))


def install() -> None:
    """Route the callback to :class:`PortCallbackHandler` instead of batchspawner's handler."""
    default_handlers[:] = [h for h in default_handlers if h[1] is not BatchSpawnerAPIHandler]
    if not any(h[1] is PortCallbackHandler for h in default_handlers):
        default_handlers.append((ROUTE, PortCallbackHandler))


install()
