"""A real OpenID Connect provider (npm's oidc-provider, run by tests/support/oidc/provider.js)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.hub import free_port

SCRIPT = Path(__file__).resolve().parent / "oidc" / "provider.js"
CLIENT_ID = "jupyterhub"


class OidcProvider:
    """One provider process on a loopback port; its accounts are a JSON file the tests rewrite."""

    def __init__(self, workdir: Path, accounts: dict[str, dict], secret: str = "test-client-secret"):
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.secret = secret
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.accounts_path = workdir / "accounts.json"
        self.log_path = workdir / "provider.log"
        self.set_accounts(accounts)
        self.proc: subprocess.Popen | None = None

    def urls(self) -> dict[str, str]:
        """The endpoints a site file names (oidc-provider's default routes)."""
        return {
            "authorize_url": f"{self.issuer}/auth",
            "token_url": f"{self.issuer}/token",
            "userdata_url": f"{self.issuer}/me",
        }

    def set_accounts(self, accounts: dict[str, dict]) -> None:
        """Replace every account at once: ``{sub: {"preferred_username": ..., "groups": [...]}}``."""
        tmp = self.accounts_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(accounts))
        tmp.replace(self.accounts_path)

    def start(self, redirect_uris: list[str], timeout: float = 30) -> OidcProvider:
        if not (SCRIPT.parent / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError(f"oidc-provider is not installed in {SCRIPT.parent}: run bash .ci/setup")
        self._log = self.log_path.open("ab")
        argv = ["node", str(SCRIPT), str(self.port), str(self.accounts_path), self.secret, *redirect_uris]
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"OIDC provider exited with {self.proc.returncode}:\n{self.log()[-2000:]}")
            try:
                if httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"OIDC provider did not answer within {timeout}s:\n{self.log()[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
