"""A stand-in for the hub's REST API (users and their groups by token) and for a slow
OpenAI-compatible model endpoint, served from a thread on a loopback port.

The batch tools ask the hub for a user's groups with the session's token (``GET /hub/api/user``;
an admin's token may read ``/hub/api/users/NAME``); this answers as JupyterHub does: 403 for an
unknown token, and a model without ``groups`` when the token lacks ``read:users:groups``. The
model endpoint answers every chat completion "No." after ``delay`` seconds, so a job that asks it
stays running for as long as a test needs.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Token:
    """Whose token it is, and what it may read."""

    user: str
    groups_scope: bool = True
    admin: bool = False


@dataclass
class FakeHub:
    """The fake hub: ``groups`` by user, ``tokens`` by token text; ``start()`` serves them."""

    groups: dict[str, list[str]]
    tokens: dict[str, Token] = field(default_factory=dict)
    delay: float = 2.0
    #: Most users one page of GET /users holds (JupyterHub's api_page_max_limit).
    page_limit: int = 200
    completions: int = 0
    requests: list[str] = field(default_factory=list)

    def start(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: pytest shows failures, not every request
                pass

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                hub.requests.append(self.path)
                token = hub.tokens.get(self.headers.get("Authorization", "").removeprefix("token "))
                if token is None:
                    return self._send(403, {"status": 403, "message": "Missing or invalid credentials"})
                path, _, query = self.path.partition("?")
                if path == "/hub/api/users":  # the list, paged by offset and limit as JupyterHub does
                    if not token.admin:
                        return self._send(403, {"status": 403, "message": "Action is not authorized"})
                    params = parse_qs(query)
                    offset, limit = int(params.get("offset", ["0"])[0]), int(params.get("limit", [str(hub.page_limit)])[0])
                    names = sorted(hub.groups)[offset : offset + min(limit, hub.page_limit)]
                    return self._send(200, [self._model(token, name) for name in names])
                if path == "/hub/api/user":
                    name = token.user
                elif path.startswith("/hub/api/users/") and token.admin:
                    name = path.removeprefix("/hub/api/users/")
                else:
                    return self._send(404, {"status": 404, "message": "Not Found"})
                if name not in hub.groups:
                    return self._send(404, {"status": 404, "message": "Not Found"})
                return self._send(200, self._model(token, name))

            def _model(self, token: Token, name: str) -> dict:
                model = {"kind": "user", "name": name}
                if token.groups_scope:
                    model["groups"] = hub.groups[name]
                return model

            def do_POST(self):
                hub.requests.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": "not found"})
                hub.completions += 1
                time.sleep(hub.delay)
                return self._send(200, {"choices": [{"message": {"content": "No."}}]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-hub", daemon=True)
        self.thread.start()
        return self

    @property
    def api_url(self) -> str:
        """What a session finds in JUPYTERHUB_API_URL."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/hub/api"

    @property
    def model_url(self) -> str:
        """The slow model endpoint, as a bias model spec's URL part."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def session_env(self, token: str) -> dict[str, str]:
        """The hub variables a session of the token's user has."""
        return {"JUPYTERHUB_API_URL": self.api_url, "JUPYTERHUB_API_TOKEN": token}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
