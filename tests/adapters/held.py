"""``Held``: a fake gateway route whose requests wait on a barrier the test opens, so a
test checks what the bot did meanwhile (in order, not by timing)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.fakes.gateway import Call, FakeGateway


class Held:
    """Wraps the route ``method path`` of ``gateway`` (served by ``original``): each
    request waits until ``release()``. ``log`` notes ``("sent", snapshot())`` when a
    request arrives and ``("answered", snapshot())`` when it is let through, where
    ``snapshot`` reads the platform fake's log (e.g. the answered callback queries)."""

    def __init__(self, gateway: FakeGateway, method: str, path: str,
                 original: Callable[[Call], Awaitable[web.StreamResponse]],
                 snapshot: Callable[[], Any] = lambda: None) -> None:
        self.original = original
        self.snapshot = snapshot
        self.log: list[tuple[str, Any]] = []
        self._open = asyncio.Event()
        gateway.route(method, path, self.handle)

    def steps(self) -> list[str]:
        return [step for step, _ in self.log]

    async def handle(self, call: Call) -> web.StreamResponse:
        self.log.append(("sent", self.snapshot()))
        await self._open.wait()
        self.log.append(("answered", self.snapshot()))
        return await self.original(call)

    def release(self) -> None:
        """Let every held and later request through."""
        self._open.set()
