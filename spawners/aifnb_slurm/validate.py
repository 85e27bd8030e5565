"""Allow-lists for values that reach a batch script, a shell, a path or a URL: one place, one style.

Every check is ``re.fullmatch`` with ASCII classes. ``re.match(r"...$")`` lets a trailing newline
through (``$`` matches before it), and ``\\d`` or ``str.isdigit()`` accept digits such as ``"²"``
that ``int()`` then refuses; both have bitten this project before.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator

#: Unix user names the platform runs jobs for (the shape ``useradd`` accepts, lower case).
USERNAME = r"[a-z_][a-z0-9_-]{0,31}"
#: Unix and hub group names.
GROUPNAME = r"[a-z][a-z0-9_-]{0,31}"
#: Slurm object names: partitions, accounts, QoS, reservations, GPU types.
SLURM_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
#: Job names the platform gives its jobs.
JOB_NAME = r"[A-Za-z0-9_.-]{1,64}"
#: Course and item names of learners' progress records (a file name and a URL part on the hub).
PROGRESS_NAME = r"[a-z0-9][a-z0-9_.-]{0,63}"
#: A whole number written with ASCII digits only.
DIGITS = r"[0-9]+"
#: An absolute path made of safe characters (no spaces, quotes, newlines or shell syntax).
SAFE_PATH = r"/[A-Za-z0-9._/+%-]+"


class InvalidValue(ValueError):
    """A value outside its allow-list; the message names the field and what is allowed."""

    def __init__(self, field: str, value: object, allowed: str):
        shown = repr(value if not isinstance(value, str) else value[:60])
        super().__init__(f"{field}: {shown} is not allowed; {allowed}")
        self.field = field


def matches(pattern: str, value: object) -> bool:
    """True when ``value`` is a string that ``pattern`` matches whole, ASCII classes only."""
    return isinstance(value, str) and re.fullmatch(pattern, value, flags=re.ASCII) is not None


def check(field: str, value: object, pattern: str, allowed: str) -> str:
    """``value`` when it matches ``pattern`` whole; else :class:`InvalidValue` naming ``field``."""
    if not matches(pattern, value):
        raise InvalidValue(field, value, allowed)
    return value  # type: ignore[return-value]  (matches() proved it is a str)


def anchored(pattern: str) -> str:
    r"""``pattern`` anchored for APIs that call ``re.match`` with Python's ``re`` (JupyterHub's
    ``username_pattern``): ``\A`` and ``\Z``, never ``$``."""
    return rf"\A(?:{pattern})\Z"


def checked_str(pattern: str, allowed: str) -> Any:
    """A pydantic field type checked by :func:`matches` (pydantic's ``pattern=`` may use either
    Rust's or Python's regex engine, whose ``$`` differ)."""

    def _check(value: str) -> str:
        if not matches(pattern, value):
            raise ValueError(f"{value[:60]!r} is not allowed; {allowed}")
        return value

    return Annotated[str, AfterValidator(_check)]
