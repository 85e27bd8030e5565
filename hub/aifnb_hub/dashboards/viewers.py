"""Who is viewing which dashboard, counted where the service can see it: in the proxy.

A viewer holds one Voilà kernel from the moment its page starts rendering until its kernel
websocket has been closed for ``grace`` seconds (a reload reconnects within that window), or,
when the browser never connects, for ``connect_timeout`` seconds after the page was sent. The
kernel cap compares this count, never Voilà's own, so a refused viewer costs no kernel at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Kernel:
    slug: str
    version: str
    connections: int = 0
    deadline: float = 0.0


class Viewers:
    """Renders in flight and live kernels per dashboard; not thread-safe (one tornado loop)."""

    def __init__(self, cap: int, grace: float, connect_timeout: float, clock: Callable[[], float] = time.monotonic):
        self.cap = cap
        self.grace = grace
        self.connect_timeout = connect_timeout
        self.clock = clock
        self._rendering: dict[tuple[str, str], int] = {}
        self._kernels: dict[str, _Kernel] = {}

    def count(self, slug: str) -> int:
        rendering = sum(n for (s, _), n in self._rendering.items() if s == slug)
        return rendering + sum(1 for k in self._kernels.values() if k.slug == slug)

    def in_use(self, slug: str, version: str) -> bool:
        """Whether a Voilà server still has a viewer (old versions are retired once this is false)."""
        return self._rendering.get((slug, version), 0) > 0 or any(
            k.slug == slug and k.version == version for k in self._kernels.values()
        )

    def start_render(self, slug: str, version: str) -> bool:
        """Take a slot for a new page, or refuse when the dashboard is at its cap."""
        if self.count(slug) >= self.cap:
            return False
        self._rendering[(slug, version)] = self._rendering.get((slug, version), 0) + 1
        return True

    def end_render(self, slug: str, version: str, kernel_id: str | None) -> None:
        """The page is out; its kernel keeps the slot while the browser connects."""
        left = self._rendering.get((slug, version), 1) - 1
        if left:
            self._rendering[(slug, version)] = left
        else:
            self._rendering.pop((slug, version), None)
        if kernel_id:
            self._kernels[kernel_id] = _Kernel(slug, version, deadline=self.clock() + self.connect_timeout)

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
