"""A real JupyterHub (with its real configurable-http-proxy) started from the platform's config."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "hub" / "jupyterhub_config.py"
PASSWORD = "test-password-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Hub:
    """One hub process with a site settings file layered over the embedded defaults."""

    def __init__(self, workdir: Path, users: dict[str, str], extra: dict | None = None, config: Path = CONFIG):
        self.workdir = workdir
        self.config = config
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        site = {
            "hub": {
                "bind_url": self.url,
                "hub_port": free_port(),
                "proxy_api_port": free_port(),
                "data_dir": str(workdir / "data"),
                "usage_log": str(workdir / "data" / "usage" / "sessions.jsonl"),
                "start_timeout": 90,
            },
            "auth": {"mode": "demo", "demo": {"password": PASSWORD}},
            "groups": {group: {"users": [name]} for group, name in users.items()},
            "content": {"repo": str(workdir / "content")},
            "culling": {"timeout": 3600, "every": 300},
            # The dashboards service warms Voila kernels at start; its own tests turn it on.
            "dashboards": {"enabled": False},
        }
        for section, values in (extra or {}).items():
            site[section] = {**site.get(section, {}), **values} if isinstance(values, dict) else values
        self.users = sorted({u for g in site["groups"].values() for u in g.get("users", [])})
        self.settings_path = workdir / "site.yaml"
        self.settings_path.write_text(yaml.safe_dump(site))
        self.log_path = workdir / "hub.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Hub:
        env = {
            **os.environ,
            "AIFNB_SETTINGS": str(self.settings_path),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        }
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(self.config)],
            cwd=self.workdir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/hub/api/", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"hub did not answer within {timeout}s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self._log.close()
        # The platform's hub leaves sessions running when it stops (cleanup_servers=False); a test
        # hub is gone for good, so its users' session jobs go with it.
        for user in self.users:
            subprocess.run(["scancel", "--name", f"aifnb-session-{user}", "--user", user], capture_output=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def login(self, username: str, password: str = PASSWORD) -> Session:
        """Log in through the real login form, as a browser would; use as a context manager."""
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        page = client.get("/hub/login")
        xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', page.text)
        data = {"username": username, "password": password}
        if xsrf:
            data["_xsrf"] = xsrf.group(1)
        response = client.post("/hub/login", data=data)
        if response.status_code != 302:
            raise AssertionError(f"login of {username} failed: {response.status_code} {response.text[:300]}")
        return Session(self, client, username)


class Session:
    """A logged-in user: the browser's cookies plus an API token made with them."""

    def __init__(self, hub: Hub, client: httpx.Client, username: str):
        self.hub = hub
        self.client = client
        self.username = username
        xsrf = client.cookies.get("_xsrf", "")
        response = client.post(
            f"/hub/api/users/{username}/tokens",
            json={"note": "tests", "expires_in": 3600},
            headers={"X-XSRFToken": xsrf},
        )
        response.raise_for_status()
        self.api = httpx.Client(
            base_url=f"{hub.url}/hub/api", headers={"Authorization": f"token {response.json()['token']}"}, timeout=30
        )

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()
        self.api.close()

    def xsrf_form(self, path: str) -> str:
        page = self.client.get(path)
        match = re.search(r'name="_xsrf"\s+value="([^"]+)"', page.text)
        return match.group(1) if match else self.client.cookies.get("_xsrf", "")

    def server(self) -> dict | None:
        return self.api.get(f"/users/{self.username}").json()["servers"].get("")

    def wait_ready(self, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.server()
            if server and server.get("ready"):
                return server
            if not server or not server.get("pending"):
                raise AssertionError(f"server of {self.username} is not starting: {server}\n{self.hub.log()[-3000:]}")
            time.sleep(0.3)
        raise AssertionError(f"server of {self.username} not ready in {timeout}s\n{self.hub.log()[-3000:]}")

    def wait_stopped(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server() is None:
                return
            time.sleep(0.3)
        raise AssertionError(f"server of {self.username} did not stop in {timeout}s")

    def start(self, options: dict | None = None) -> httpx.Response:
        return self.api.post(f"/users/{self.username}/server", json=options or {})

    def stop(self) -> httpx.Response:
        response = self.api.delete(f"/users/{self.username}/server")
        self.wait_stopped()
        return response
