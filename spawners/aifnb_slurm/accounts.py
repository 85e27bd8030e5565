"""Who may run Slurm jobs: people with an ordinary Unix account, never a system account.

The hub runs commands *as* the user (``runuser``/``sudo -u``). A hub user named ``root``,
``slurm`` or ``nobody`` — created through the admin API or handed over by an identity provider —
must not become a job of that account, so every path that runs a command as a user (sessions,
batch jobs, resubmit, usage, cancel) asks :meth:`AccountPolicy.check` first.
"""

from __future__ import annotations

import functools
import pwd
import re
from dataclasses import dataclass, field
from pathlib import Path

from .validate import USERNAME, matches

LOGIN_DEFS = Path("/etc/login.defs")

#: Service accounts refused whatever their uid (some distributions give them uids above UID_MIN).
DENIED_USERS = frozenset(
    {
        "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp",
        "proxy", "www-data", "backup", "list", "irc", "gnats", "nobody", "_apt", "messagebus",
        "sshd", "systemd-network", "systemd-resolve", "systemd-timesync", "polkitd",
        "slurm", "munge", "postgres", "jupyterhub", "aifnb", "aifnb-dashboards",
    }
)  # fmt: skip


class AccountError(PermissionError):
    """The user may not run jobs on this host; the message says why and what to do."""


@functools.cache
def login_defs_uid_range(path: Path = LOGIN_DEFS) -> tuple[int, int]:
    """``(UID_MIN, UID_MAX)`` from ``/etc/login.defs``: the uids ``useradd`` gives to people.

    Defaults to Debian's 1000 and 60000 when the file or a key is missing.
    """
    values = {"UID_MIN": 1000, "UID_MAX": 60000}
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return values["UID_MIN"], values["UID_MAX"]
    for line in text.splitlines():
        found = re.fullmatch(r"\s*(UID_MIN|UID_MAX)\s+([0-9]{1,10})\s*", line, flags=re.ASCII)
        if found:
            values[found.group(1)] = int(found.group(2))
    return values["UID_MIN"], values["UID_MAX"]


@dataclass(frozen=True)
class AccountPolicy:
    """Which Unix accounts may run jobs: a name of the allowed shape, not denied, uid in range."""

    min_uid: int = field(default_factory=lambda: login_defs_uid_range()[0])
    max_uid: int = field(default_factory=lambda: login_defs_uid_range()[1])
    denied: frozenset[str] = DENIED_USERS

    def check(self, name: str) -> pwd.struct_passwd:
        """The account of ``name``, or :class:`AccountError` saying why it may not run jobs."""
        if not matches(USERNAME, name):
            raise AccountError(f"user name {str(name)[:40]!r} cannot run jobs: names are 1-32 of a-z, 0-9, '_', '-'")
        if name in self.denied:
            raise AccountError(f"user {name!r} is a system account and cannot run jobs")
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            raise AccountError(f"user {name!r} has no Unix account on this host; ask the centre's admins") from None
        if not self.min_uid <= account.pw_uid <= self.max_uid:
            raise AccountError(
                f"user {name!r} (uid {account.pw_uid}) is a system account and cannot run jobs: "
                f"only uids {self.min_uid}-{self.max_uid} may"
            )
        return account
