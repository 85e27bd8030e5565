"""One loopback Voilà server per dashboard version, started on demand and retired when unused.

A server per *version* is what keeps republishing safe: viewers of the old version keep their
kernels and static files on the old server while new pages go to the new one, and Voilà's
preheated kernels are always rendered from the notebook they will show. Each server runs with
the checked-in ``voila/voila.json``, no host Jupyter configuration, and a random token the proxy
adds to every request (so other local users cannot bypass the hub's login); the token reaches
Voilà in a 0600 file, never on its command line, where ``ps`` would show it to everyone.

Each server and its kernels run as a uid of their own from the ``kernel_uids`` pool, in a
private scratch folder (0700) holding a copy of the notebook, HOME, TMPDIR and the kernels'
connection files: one dashboard's code cannot read another's connection files (and so cannot
drive its kernels), nor the store, which stays private to the service. Only a root service can
do this, so a service that is not root refuses to start a server rather than run viewer code
as itself (the hub's account).
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


class NotRootError(RunnerError):
    """The service cannot switch to a kernel uid, and never runs dashboard code as itself."""


def not_root_message(euid: int) -> str:
    """Why a service that is not root does not run dashboards, naming the setting that turns them off."""
    try:
        name = pwd.getpwuid(euid).pw_name
    except KeyError:
        name = str(euid)
    return (
        f"the dashboards service runs as {name}, not root, so it cannot run dashboard kernels under "
        "uids of their own (dashboards.kernel_uids) and will not run them as the hub's account: "
        "run the hub as root, or set dashboards.enabled: false"
    )


def uid_pids(uid: int) -> list[int]:
    """Every process running as ``uid``: kernels run in sessions of their own, and whatever a
    dashboard forked must not live on into the next server that gets this uid."""
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            line = next(x for x in status.read_text().splitlines() if x.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if str(uid) in line.split()[1:]:
            pids.append(int(status.parent.name))
    return pids


class UidPool:
    """The kernel uids of the running servers: one each, never one that has an account."""

    def __init__(self, first: int, last: int):
        self.first, self.last = first, last
        self._taken: set[int] = set()

    def take(self) -> int:
        for uid in range(self.first, self.last + 1):
            if uid in self._taken or uid_pids(uid):  # processes left by a service that was killed
                continue
            try:
                pwd.getpwuid(uid)
            except KeyError:
                self._taken.add(uid)
                return uid
        raise RunnerError(f"no free kernel uid in dashboards.kernel_uids [{self.first}, {self.last}]")

    def give_back(self, uid: int) -> None:
        self._taken.discard(uid)

    def reap(self) -> int:
        """Kill what a killed service left running under the pool's account-less uids (its Voilà
        servers and kernels); called when the service starts, before any uid is handed out."""
        killed = 0
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                line = next(x for x in status.read_text().splitlines() if x.startswith("Uid:"))
            except (OSError, StopIteration):
                continue
            uid = int(line.split()[1])
            if not self.first <= uid <= self.last or _has_account(uid):
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(status.parent.name), signal.SIGKILL)
                killed += 1
        return killed


def _has_account(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class VoilaRunner:
    """A Voilà server for one immutable version folder, under the public URL prefix it is proxied at."""

    def __init__(self, version_dir: Path, base_url: str, options: DashboardsSection, uid: int):
        self.version_dir = version_dir
        self.base_url = base_url
        self.options = options
        self.uid = uid
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
        """No secret here: argv is world-readable in /proc (the token comes from JUPYTER_TOKEN_FILE)."""
        o = self.options
        return [
            sys.executable,
            "-m",
            "voila",
            str(self.scratch / "root" / NOTEBOOK),
            f"--Voila.config_file_paths={VOILA_CONFIG_DIR}",
            "--no-browser",
            "--Voila.ip=127.0.0.1",
            f"--port={self.port}",
            f"--Voila.base_url={self.base_url}",
            f"--Voila.root_dir={self.scratch / 'root'}",
            "--Voila.auto_token=True",
            f"--Voila.connection_dir_root={self.scratch / 'runtime'}",
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
            "HOME": f"{scratch}/home",
            "USER": f"aifnb-dash-{self.uid}",  # the uid has no passwd entry; getpass reads this
            "TMPDIR": f"{scratch}/tmp",
            "JUPYTER_NO_CONFIG": "1",
            "JUPYTER_TOKEN_FILE": f"{scratch}/token",
            "JUPYTER_DATA_DIR": f"{scratch}/home/data",
            "JUPYTER_RUNTIME_DIR": f"{scratch}/runtime",
            "JUPYTER_PREFER_ENV_PATH": "1",
            "IPYTHONDIR": f"{scratch}/home/ipython",
            "MPLCONFIGDIR": f"{scratch}/home/matplotlib",
            "PYTHONNOUSERSITE": "1",
        }

    def _prepare_scratch(self) -> None:
        """The server's private folder: the notebook copy, HOME, TMPDIR, runtime and the token, all its uid's."""
        self.scratch = Path(tempfile.mkdtemp(prefix="aifnb-voila-"))
        for sub in ("root", "home", "tmp", "runtime"):
            (self.scratch / sub).mkdir(mode=0o700)
        shutil.copyfile(self.version_dir / NOTEBOOK, self.scratch / "root" / NOTEBOOK)
        token = self.scratch / "token"
        token.touch(mode=0o600)
        token.write_text(self.token)
        for path in (self.scratch, *self.scratch.iterdir(), self.scratch / "root" / NOTEBOOK):
            os.chown(path, self.uid, self.uid)

    async def start(self, timeout: float = 60) -> None:
        if os.geteuid() != 0:
            raise NotRootError(not_root_message(os.geteuid()))
        self._prepare_scratch()
        logfile = (self.scratch / "voila.log").open("wb")  # the service's file: the kernels cannot rewrite it
        self.proc = subprocess.Popen(  # noqa: ASYNC220  (returns at once; the wait below is async)
            self._argv(),
            cwd=self.scratch / "root",
            env=self._environment(),
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=self.uid,
            group=self.uid,
            extra_groups=[],
            umask=0o077,
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

    def stop(self) -> None:
        """Kernels and server at once: Voilà leaves its kernels running when it is stopped."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc:
            for _ in range(3):  # a process may fork while the others are being killed
                for pid in uid_pids(self.uid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            self.proc.wait()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


class Runners:
    """The running Voilà servers by (slug, version); at most one start per version at a time."""

    def __init__(self, options: DashboardsSection, prefix: str):
        self.options = options
        self.prefix = prefix
        self.uids = UidPool(*options.kernel_uids)
        if os.geteuid() == 0 and (left := self.uids.reap()):
            log.warning("killed %d process(es) a previous dashboards service left running", left)
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
            runner = VoilaRunner(version_dir, self.base_url(slug, version), self.options, self.uids.take())
            self._runners[key] = runner
            self._starting[key] = asyncio.ensure_future(self._start(key, runner))
        return await asyncio.shield(self._starting[key])

    async def _start(self, key: tuple[str, str], runner: VoilaRunner) -> VoilaRunner:
        try:
            await runner.start()
            return runner
        except BaseException:
            if self._runners.pop(key, None):
                self.uids.give_back(runner.uid)
            raise
        finally:
            self._starting.pop(key, None)

    def versions(self, slug: str) -> set[str]:
        return {v for (s, v) in self._runners if s == slug}

    def keys(self) -> list[tuple[str, str]]:
        return list(self._runners)

    def stop(self, slug: str, version: str | None = None) -> None:
        for key in [k for k in self._runners if k[0] == slug and version in (None, k[1])]:
            runner = self._runners.pop(key)
            runner.stop()
            self.uids.give_back(runner.uid)

    def stop_all(self) -> None:
        """Every server, starting ones included (their start is cancelled with the service)."""
        for task in self._starting.values():
            task.cancel()
        for runner in self._runners.values():
            runner.stop()
            self.uids.give_back(runner.uid)
        self._runners.clear()
