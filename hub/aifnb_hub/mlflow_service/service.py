"""Entry point of the hub-managed MLflow service (``python -m aifnb_hub.mlflow_service.service``).

The hub starts it with a managed service's JUPYTERHUB_* variables and the resolved settings in
AIFNB_MLFLOW (written by :func:`.config.apply_mlflow`). It prepares a private state folder (the
auth app's config, the Flask secret key, the bootstrap admin's password: files, never argv),
then runs ``mlflow server --app-name aifnb-hub`` in a process group of its own and stops that
whole group when the hub stops the service. While the server is down (it exited: its database
is unreachable, say) the launcher answers every request on the port with a 503 naming the
service and starts the server again every RETRY_SECONDS, so the hub and sessions start anyway.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import secrets
import signal
import sys
import time
from pathlib import Path

from . import OPTIONS_ENV

log = logging.getLogger("aifnb.mlflow")
#: MLflow's bootstrap admin: needed by its auth app, never used to log in (nobody knows the password).
BOOTSTRAP_ADMIN = "aifnb-bootstrap-admin"
STOP_SECONDS = 5
#: Seconds between attempts to start a server that exited.
RETRY_SECONDS = 30


def secret_file(path: Path) -> str:
    """The secret kept in ``path`` (created 0600 with a new random value the first time)."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def auth_config(options: dict) -> str:
    """MLflow's auth app config (basic_auth.ini's format): hub identity, private by default."""
    return "\n".join(
        [
            "[mlflow]",
            f"default_permission = {options['default_permission']}",
            f"database_uri = {options['auth_database_uri']}",
            f"admin_username = {BOOTSTRAP_ADMIN}",
            "authorization_function = aifnb_hub.mlflow_service.identity:authenticate",
            "grant_default_workspace_access = false",
            "",
        ]
    )


def server_command(options: dict) -> list[str]:
    """``mlflow server`` with nothing secret on it (store URIs travel in the environment)."""
    return [
        sys.executable, "-m", "mlflow", "server",
        "--app-name", "aifnb-hub",
        "--host", "127.0.0.1",
        "--port", str(options["port"]),
        "--workers", str(options["workers"]),
        "--serve-artifacts",
        "--artifacts-destination", options["artifacts_destination"],
        "--allowed-hosts", ",".join(options["allowed_hosts"]),
        "--cors-allowed-origins", options["public_origin"],
    ]  # fmt: skip


def server_environment(options: dict, state: Path) -> dict[str, str]:
    config = state / "auth.ini"
    config.write_text(auth_config(options))
    config.chmod(0o600)
    return {
        **os.environ,
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secret_file(state / "flask-secret"),
        "MLFLOW_AUTH_ADMIN_PASSWORD": secret_file(state / "bootstrap-admin-password"),
        "MLFLOW_BACKEND_STORE_URI": options["backend_store_uri"],
        "MLFLOW_STATIC_PREFIX": options["prefix"].rstrip("/"),
        # No usage data leaves the Factory, and no job runners beside the server.
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }


DOWN_MESSAGE = (
    "The hub's MLflow service ({prefix}) is down: {reason}. It is restarted every {retry} s; nothing was logged, "
    "try again later. Admins find the details in the hub's log."
)


def store_problem(uri: str, timeout: int = 5) -> str | None:
    """Why the backend store cannot be used right now (None: it answers). MLflow itself would retry
    an unreachable database for minutes before it exits, with the hub waiting on it."""
    if not uri.startswith(("postgresql", "mysql", "mssql")):
        return None
    import sqlalchemy

    args = {"connect_timeout": timeout} if uri.startswith(("postgresql", "mysql")) else {}
    engine = sqlalchemy.create_engine(uri, connect_args=args)
    try:
        with engine.connect():
            return None
    except sqlalchemy.exc.SQLAlchemyError as exc:
        log.error("MLflow's backend store cannot be reached: %s", str(exc).splitlines()[0])
        return "its database cannot be reached"
    finally:
        engine.dispose()


async def answer_down(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, message: str, prefix: str) -> None:
    """While the MLflow server is not running: a 503 naming the service to every request but the
    service's own root page, which says the same with a 200. The hub probes that page at start and
    counts only a non-5xx answer as a started service (a 503 there would stop the whole hub)."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        request_line = head.split(b"\r\n", 1)[0].split()
        root = len(request_line) >= 2 and request_line[0] in (b"GET", b"HEAD") and request_line[1] == prefix.encode()
        status = b"200 OK" if root else b"503 Service Unavailable"
        body = (message + "\n").encode()
        writer.write(
            b"HTTP/1.1 "
            + status
            + b"\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        pass
    finally:
        writer.close()


async def stop_group(server: asyncio.subprocess.Process) -> None:
    """SIGTERM the server's process group; what is left after STOP_SECONDS is killed."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline:
            if server.returncode is None:
                try:
                    await asyncio.wait_for(server.wait(), 0.1)
                except TimeoutError:
                    continue
            try:
                os.killpg(server.pid, 0)
            except ProcessLookupError:
                return
            await asyncio.sleep(0.1)


async def supervise(options: dict, state: Path) -> None:
    """Run the MLflow server; while it is down, answer 503 on its port and start it again every retry_seconds."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    retry = options.get("retry_seconds", RETRY_SECONDS)
    while not stop.is_set():
        reason = await asyncio.get_running_loop().run_in_executor(None, store_problem, options["backend_store_uri"])
        if reason is None:
            server = await asyncio.create_subprocess_exec(
                *server_command(options), env=server_environment(options, state), start_new_session=True
            )
            log.info("MLflow server (pid %d) on 127.0.0.1:%d%s", server.pid, options["port"], options["prefix"])
            stopped = asyncio.ensure_future(stop.wait())
            exited = asyncio.ensure_future(server.wait())
            await asyncio.wait([stopped, exited], return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set():
                exited.cancel()
                await stop_group(server)
                return
            stopped.cancel()
            await stop_group(server)  # workers of a server that died
            reason = f"its server stopped (exit status {server.returncode})"
        message = DOWN_MESSAGE.format(prefix=options["prefix"], reason=reason, retry=retry)
        log.error("MLflow service down (%s); answering 503 until it starts again", reason)
        down = await asyncio.start_server(
            functools.partial(answer_down, message=message, prefix=options["prefix"]), "127.0.0.1", options["port"]
        )
        try:
            await asyncio.wait_for(stop.wait(), retry)
        except TimeoutError:
            pass
        down.close()
        await down.wait_closed()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)1.1s %(asctime)s mlflow] %(message)s")
    options = json.loads(os.environ[OPTIONS_ENV])
    state = Path(options["state_dir"])
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    state.chmod(0o700)
    if options["artifacts_destination"].startswith("/"):
        Path(options["artifacts_destination"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    asyncio.run(supervise(options, state))


if __name__ == "__main__":
    main()
