"""One loopback Voilà server per dashboard version, started on demand and retired when unused.

A server per *version* is what keeps republishing safe: viewers of the old version keep their
kernels and static files on the old server while new pages go to the new one, and Voilà's
preheated kernels are always rendered from the notebook they will show. Each server runs with
the checked-in ``voila/voila.json``, no host Jupyter configuration, a random token the proxy
adds to every request (so other local users cannot bypass the hub's login), and, when the
service is root, as the unprivileged ``kernel_user``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..settings import DashboardsSection
from .store import NOTEBOOK

VOILA_CONFIG_DIR = Path(__file__).resolve().parent / "voila"
log = logging.getLogger("aifnb.dashboards")


class RunnerError(RuntimeError):
    """A Voilà server did not come up; the message holds the end of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class VoilaRunner:
    """A Voilà server for one immutable version folder, under the public URL prefix it is proxied at."""

    def __init__(self, version_dir: Path, base_url: str, options: DashboardsSection):
        self.version_dir = version_dir
        self.base_url = base_url
        self.options = options
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.proc: subprocess.Popen | None = None
        self.scratch: Path | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def url(self, path: str = "", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{self.base_url}{path}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _argv(self) -> list[str]:
        o = self.options
        return [
            sys.executable,
            "-m",
            "voila",
            str(self.version_dir / NOTEBOOK),
            f"--Voila.config_file_paths={VOILA_CONFIG_DIR}",
            "--no-browser",
            "--Voila.ip=127.0.0.1",
            f"--port={self.port}",
            f"--Voila.base_url={self.base_url}",
            f"--Voila.root_dir={self.version_dir}",
            f"--token={self.token}",
            f"--Voila.connection_dir_root={self.scratch}",
            f"--VoilaConfiguration.preheat_kernel={o.preheat > 0}",
            f"--VoilaConfiguration.default_pool_size={o.preheat}",
            f"--VoilaExecutor.timeout={o.execution_timeout}",
            f"--MappingKernelManager.cull_idle_timeout={o.idle_timeout}",
        ]

    def _environment(self) -> dict[str, str]:
        scratch = str(self.scratch)
        return {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": scratch,
            "JUPYTER_NO_CONFIG": "1",
            "JUPYTER_DATA_DIR": f"{scratch}/data",
            "JUPYTER_RUNTIME_DIR": f"{scratch}/runtime",
            "JUPYTER_PREFER_ENV_PATH": "1",
            "IPYTHONDIR": f"{scratch}/ipython",
            "MPLCONFIGDIR": f"{scratch}/matplotlib",
            "PYTHONNOUSERSITE": "1",
        }

    async def start(self, timeout: float = 60) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="aifnb-voila-"))
        user = {}
        if os.geteuid() == 0:
            account = pwd.getpwnam(self.options.kernel_user)
            os.chown(self.scratch, account.pw_uid, account.pw_gid)
            user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        logfile = (self.scratch / "voila.log").open("wb")
        self.proc = subprocess.Popen(
            self._argv(),
            cwd=self.version_dir,
            env=self._environment(),
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **user,
        )
        logfile.close()
        try:
            await self._wait_listening(timeout)
        except BaseException:  # failed, timed out or cancelled (service stopping): leave nothing behind
            self.stop()
            raise
        log.info("voila for %s on port %d", self.base_url, self.port)

    async def _wait_listening(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and self.alive:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.2)
        raise RunnerError(f"voila for {self.base_url} did not start:\n{self.log()[-2000:]}")

    def log(self) -> str:
        path = self.scratch / "voila.log" if self.scratch else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    async def shutdown_kernel(self, kernel_id: str) -> None:
        """Free the kernel of a viewer who left (Voilà's idle culling is only the backstop)."""
        request = HTTPRequest(self.url(f"api/kernels/{kernel_id}"), method="DELETE", headers=self.headers)
        try:
            await AsyncHTTPClient().fetch(request)
        except HTTPClientError as exc:
            if exc.code != 404:
                log.warning("could not shut down kernel %s: %s", kernel_id, exc)
        except OSError as exc:
            log.warning("could not shut down kernel %s: %s", kernel_id, exc)

    def _kernel_pids(self) -> list[int]:
        """Kernels run in sessions of their own; they are found by their connection file in scratch."""
        marker = str(self.scratch).encode()
        pids = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if marker in cmdline.read_bytes():
                    pids.append(int(cmdline.parent.name))
            except OSError:
                continue
        return [pid for pid in pids if not self.proc or pid != self.proc.pid]

    def stop(self) -> None:
        """Kernels and server at once: Voilà leaves its kernels running when it is stopped."""
        if self.scratch:
            for pid in self._kernel_pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


class Runners:
    """The running Voilà servers by (slug, version); at most one start per version at a time."""

    def __init__(self, options: DashboardsSection, prefix: str):
        self.options = options
        self.prefix = prefix
        self._runners: dict[tuple[str, str], VoilaRunner] = {}
        self._starting: dict[tuple[str, str], asyncio.Task] = {}

    def base_url(self, slug: str, version: str) -> str:
        return f"{self.prefix}d/{slug}/v/{version}/"

    def running(self, slug: str, version: str) -> VoilaRunner | None:
        key = (slug, version)
        runner = self._runners.get(key)
        return runner if runner and key not in self._starting and runner.alive else None

    async def get(self, slug: str, version: str, version_dir: Path) -> VoilaRunner:
        key = (slug, version)
        runner = self.running(slug, version)
        if runner:
            return runner
        if key not in self._starting:
            self.stop(slug, version)  # a server that died
            runner = self._runners[key] = VoilaRunner(version_dir, self.base_url(slug, version), self.options)
            self._starting[key] = asyncio.ensure_future(self._start(key, runner))
        return await asyncio.shield(self._starting[key])

    async def _start(self, key: tuple[str, str], runner: VoilaRunner) -> VoilaRunner:
        try:
            await runner.start()
            return runner
        except BaseException:
            self._runners.pop(key, None)
            raise
        finally:
            self._starting.pop(key, None)

    def versions(self, slug: str) -> set[str]:
        return {v for (s, v) in self._runners if s == slug}

    def keys(self) -> list[tuple[str, str]]:
        return list(self._runners)

    def stop(self, slug: str, version: str | None = None) -> None:
        for key in [k for k in self._runners if k[0] == slug and version in (None, k[1])]:
            self._runners.pop(key).stop()

    def stop_all(self) -> None:
        """Every server, starting ones included (their start is cancelled with the service)."""
        for task in self._starting.values():
            task.cancel()
        for runner in self._runners.values():
            runner.stop()
        self._runners.clear()
