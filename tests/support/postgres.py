"""A real PostgreSQL server for the tests: its own cluster in a temporary folder, no systemd.

``initdb`` runs as the ``postgres`` account into a folder only that account can read; the
server listens on a free loopback port (and a Unix socket in the same private folder) and
requires a password (SCRAM) from everyone, so other local users of a shared CI machine cannot
use it. :meth:`Postgres.database` makes a role and a database of its own for each user of the
fixture (MLflow, the hub) and returns its SQLAlchemy URL.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql

ACCOUNT = "postgres"
START_TIMEOUT = 60


def bindir() -> Path:
    """Folder of initdb and pg_ctl: pg_config's, else the newest Debian /usr/lib/postgresql/*/bin."""
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and Path(out, "initdb").exists():
            return Path(out)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not candidates:
        raise RuntimeError("PostgreSQL's server binaries (initdb) are not installed: run .ci/setup (Debian package postgresql)")
    return Path(candidates[-1]).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    """One PostgreSQL cluster; :meth:`start` it, :meth:`stop` it (which also removes its files)."""

    def __init__(self, parent: Path | str = "/var/tmp"):
        self.account = pwd.getpwnam(ACCOUNT)
        self.root = Path(tempfile.mkdtemp(prefix="aifnb-postgres-", dir=parent))
        os.chown(self.root, self.account.pw_uid, self.account.pw_gid)
        self.root.chmod(0o700)
        self.data = self.root / "data"
        self.port = free_port()
        self.host = "127.0.0.1"
        self.password = secrets.token_urlsafe(24)
        self.bin = bindir()

    def _run(self, *argv: str, timeout: float = START_TIMEOUT) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["runuser", "-u", ACCOUNT, "--", *argv], capture_output=True, text=True, timeout=timeout, cwd=self.root, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv[:2])} failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
        return result

    def start(self) -> Postgres:
        pwfile = self.root / "pwfile"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.password + "\n")
        os.chown(pwfile, self.account.pw_uid, self.account.pw_gid)
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", ACCOUNT, f"--pwfile={pwfile}",
            "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        options = f"-c listen_addresses={self.host} -c port={self.port} -c unix_socket_directories={self.root} -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w", "start"
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                self.execute("SELECT 1")
                return self
            except psycopg2.OperationalError:
                time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not accept connections in {START_TIMEOUT}s:\n{self.log()[-2000:]}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def url(self, database: str = "postgres", user: str = ACCOUNT, password: str | None = None) -> str:
        return f"postgresql+psycopg2://{user}:{password or self.password}@{self.host}:{self.port}/{database}"

    def execute(self, statement: str | sql.Composable, params: tuple = (), database: str = "postgres") -> list[tuple]:
        """Run one statement as the superuser (autocommit); its rows, if any."""
        connection = psycopg2.connect(host=self.host, port=self.port, user=ACCOUNT, password=self.password, dbname=database)
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def database(self, name: str) -> str:
        """A new role and database, both called ``name``, the role owning the database; its URL."""
        password = secrets.token_urlsafe(24)
        self.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)))
        self.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(name)))
        return self.url(name, name, password)
