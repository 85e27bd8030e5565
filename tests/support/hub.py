"""A real JupyterHub (with its real configurable-http-proxy) started from the platform's config.

Stopping a hub is checked as an admin's SIGTERM would be: the hub, its proxy, its services and
whatever they started must all be gone within ``STOP_TIMEOUT`` seconds; a survivor is killed
and the stop fails, naming it, so a test or benchmark never leaves orphans behind.
"""

from __future__ import annotations

import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "hub" / "aifnb_hub" / "jupyterhub_config.py"
PASSWORD = "test-password-1"
#: Seconds a hub and every process it started have to be gone after SIGTERM.
STOP_TIMEOUT = 10.0


def _stat(pid: int) -> tuple[str, int, int] | None:
    """State, parent pid and start time (clock ticks since boot) of a process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


class ProcessTree:
    """Every process started under one root, each known by (pid, start time) so a reused pid is not
    mistaken for it; processes in their own session (the proxy, the services) are found too."""

    def __init__(self, root: int):
        self.root = root
        self.known: dict[int, int] = {}

    def scan(self) -> None:
        """Add the current descendants of the root and of every process already known."""
        table = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and (stat := _stat(int(entry.name))):
                table[int(entry.name)] = stat
        parents = {self.root, *self.known}
        grew = True
        while grew:
            grew = False
            for pid, (_, ppid, start) in table.items():
                if ppid in parents and pid not in parents:
                    self.known[pid] = start
                    parents.add(pid)
                    grew = True

    def alive(self) -> list[int]:
        """Known processes still running (a zombie has ended: only its parent has not reaped it)."""
        return [pid for pid, start in self.known.items() if (s := _stat(pid)) and s[2] == start and s[0] != "Z"]

    def describe(self, pids: list[int]) -> str:
        lines = []
        for pid in pids:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                cmd = "?"
            lines.append(f"  {pid}: {cmd}")
        return "\n".join(lines)

    def kill(self, pids: list[int]) -> None:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HubExited(RuntimeError):
    """The hub exited while starting; ``orphans`` lists what it left running (then killed)."""

    def __init__(self, returncode: int, log: str, orphans: str):
        self.returncode = returncode
        self.orphans = orphans
        left = f"\nleft running (now killed):\n{orphans}" if orphans else ""
        super().__init__(f"hub exited with {returncode}:\n{log[-3000:]}{left}")


class Hub:
    """One hub process with a site settings file layered over the embedded defaults."""

    #: Hubs started and not yet stopped: the tests' session fixture stops any a test forgot.
    started: ClassVar[set[Hub]] = set()

    def __init__(
        self, workdir: Path, users: dict[str, str], extra: dict | None = None, config: Path = CONFIG, run_as: str | None = None
    ):
        self.workdir = workdir
        #: Unix account the hub runs as (None: this process's, root in the tests).
        self.run_as = run_as
        #: The hub's command line, when not this environment's ``jupyterhub -f config`` (an installed wheel's).
        self.command: list[str] | None = None
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
            # MLflow (on by default) takes seconds to start; its own tests and the MLOps acceptance tests turn it on.
            "mlflow": {"enabled": False},
        }
        for section, values in (extra or {}).items():
            site[section] = {**site.get(section, {}), **values} if isinstance(values, dict) else values
        self.users = sorted({u for g in site["groups"].values() for u in g.get("users", [])})
        self.settings_path = workdir / "site.yaml"
        self.settings_path.write_text(yaml.safe_dump(site))
        self.log_path = workdir / "hub.log"
        self.proc: subprocess.Popen | None = None
        self.tree: ProcessTree | None = None
        #: Seconds from SIGTERM until the hub and all it started were gone (set by stop()).
        self.stop_seconds: float | None = None

    def start(self, timeout: float = 60) -> Hub:
        env = {
            **os.environ,
            "AIFNB_SETTINGS": str(self.settings_path),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        }
        account = {}
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            env.update(HOME=entry.pw_dir, USER=entry.pw_name, LOGNAME=entry.pw_name)
            account = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        self._log = self.log_path.open("ab")
        Hub.started.add(self)
        # The working directory is the test's (root's): a hub that wrote there as another user would fail.
        self.proc = subprocess.Popen(
            self.command or [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(self.config)],
            cwd=self.workdir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **account,
        )
        self.tree = ProcessTree(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.tree.scan()
            if self.proc.poll() is not None:
                self._log.close()
                orphans = self.tree.alive()
                left = self.tree.describe(orphans)
                self.tree.kill(orphans)
                Hub.started.discard(self)  # it is gone, and HubExited killed what it left
                raise HubExited(self.proc.returncode, self.log(), left)
            try:
                if httpx.get(f"{self.url}/hub/api/", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"hub did not answer within {timeout}s:\n{self.log()[-3000:]}")

    def stop(self, timeout: float = STOP_TIMEOUT, keep_sessions: bool = False) -> None:
        """SIGTERM the hub alone (as systemd or an admin would) and wait until it and every process
        it started are gone; after ``timeout`` seconds kill the survivors and fail, naming them.
        The users' session jobs are cancelled too, unless ``keep_sessions`` (a restart follows)."""
        Hub.started.discard(self)
        survivors = ""
        if self.proc and self.proc.poll() is None:
            self.tree.scan()
            started = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)
            while True:
                hub_running = self.proc.poll() is None
                if hub_running:
                    self.tree.scan()  # what the hub starts while stopping counts too
                alive = self.tree.alive()
                if not hub_running and not alive:
                    break
                if time.monotonic() - started > timeout:
                    survivors = self.tree.describe(([self.proc.pid] if hub_running else []) + alive)
                    self.tree.kill(alive)
                    self.proc.kill()
                    self.proc.wait()
                    break
                time.sleep(0.05)
            self.stop_seconds = time.monotonic() - started
            self._log.close()
        # The platform's hub leaves sessions running when it stops (cleanup_servers=False); a test
        # hub is gone for good, so its users' session jobs go with it.
        for user in [] if keep_sessions else self.users:
            subprocess.run(["scancel", "--name", f"aifnb-session-{user}", "--user", user], capture_output=True)
        if survivors:
            raise AssertionError(f"still running {timeout:.0f}s after the hub's SIGTERM (now killed):\n{survivors}")

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
