"""Who is viewing which dashboard, counted where the service can see it: in the proxy.

A viewer holds one Voilà kernel from the moment its page starts rendering until its kernel
websocket has been closed for ``grace`` seconds (a reload reconnects within that window), or,
when the browser never connects, for ``connect_timeout`` seconds after the page was sent. The
caps (per dashboard, per user, all together) compare this count, never Voilà's own, so a
refused viewer costs no kernel at all.

The kernel id written into a page is also what lets that page reach its kernel: the page runs
in a CSP sandbox (an opaque origin that carries no hub cookie), so the proxy admits a kernel
websocket when its id is one it handed out, to a viewer who may still open the dashboard.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Kernel:
    slug: str
    version: str
    user: dict
    connections: int = 0
    deadline: float = 0.0


@dataclass(frozen=True)
class Caps:
    """Viewer kernels allowed at once: per dashboard, per user, and on the whole service."""

    dashboard: int
    user: int
    total: int


class Viewers:
    """Renders in flight and live kernels; not thread-safe (one tornado loop)."""

    def __init__(self, caps: Caps, grace: float, connect_timeout: float, clock: Callable[[], float] = time.monotonic):
        self.caps = caps
        self.grace = grace
        self.connect_timeout = connect_timeout
        self.clock = clock
        self._rendering: dict[tuple[str, str, str], int] = {}
        self._kernels: dict[str, _Kernel] = {}

    def _held(self) -> list[tuple[str, str]]:
        """(slug, user name) of every render in flight and every live kernel."""
        held = [(slug, name) for (slug, _, name), n in self._rendering.items() for _ in range(n)]
        return held + [(k.slug, k.user["name"]) for k in self._kernels.values()]

    def count(self, slug: str) -> int:
        return sum(1 for s, _ in self._held() if s == slug)

    def count_user(self, name: str) -> int:
        return sum(1 for _, u in self._held() if u == name)

    def in_use(self, slug: str, version: str) -> bool:
        """Whether a Voilà server still has a viewer (old versions are retired once this is false)."""
        return any(s == slug and v == version for (s, v, _) in self._rendering) or any(
            k.slug == slug and k.version == version for k in self._kernels.values()
        )

    def start_render(self, slug: str, version: str, user: dict) -> str | None:
        """Take a slot for a new page; or say which cap refuses it ('dashboard', 'user' or 'total')."""
        held = self._held()
        if len(held) >= self.caps.total:
            return "total"
        if sum(1 for _, u in held if u == user["name"]) >= self.caps.user:
            return "user"
        if sum(1 for s, _ in held if s == slug) >= self.caps.dashboard:
            return "dashboard"
        key = (slug, version, user["name"])
        self._rendering[key] = self._rendering.get(key, 0) + 1
        return None

    def end_render(self, slug: str, version: str, user: dict, kernel_id: str | None) -> None:
        """The page is out; its kernel keeps the slot while the browser connects."""
        key = (slug, version, user["name"])
        left = self._rendering.get(key, 1) - 1
        if left:
            self._rendering[key] = left
        else:
            self._rendering.pop(key, None)
        if kernel_id:
            self._kernels[kernel_id] = _Kernel(slug, version, user, deadline=self.clock() + self.connect_timeout)

    def viewer(self, slug: str, version: str, kernel_id: str) -> dict | None:
        """The hub user whose page was given this kernel of this dashboard version, if any."""
        kernel = self._kernels.get(kernel_id)
        return kernel.user if kernel and (kernel.slug, kernel.version) == (slug, version) else None

    def connected(self, kernel_id: str) -> None:
        kernel = self._kernels.get(kernel_id)
        if kernel:
            kernel.connections += 1

    def disconnected(self, kernel_id: str) -> None:
        kernel = self._kernels.get(kernel_id)
        if kernel:
            kernel.connections = max(0, kernel.connections - 1)
            kernel.deadline = self.clock() + self.grace

    def left(self) -> list[tuple[str, str, str]]:
        """(slug, version, kernel id) of viewers gone for longer than the grace; they are forgotten."""
        now = self.clock()
        gone = [kid for kid, k in self._kernels.items() if not k.connections and k.deadline <= now]
        return [(k.slug, k.version, kid) for kid in gone for k in [self._kernels.pop(kid)]]
