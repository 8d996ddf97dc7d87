"""Per-channel pacing of message writes.

Discord allows about 5 message edits per 5 seconds per channel.  discord.py already
waits out 429s (and pre-emptively sleeps when ``X-RateLimit-Remaining`` hits 0), but a
429 still costs a round trip and delays the stream.  The streaming presenter therefore
asks this throttle for a slot before every send/edit, and coalesces the text deltas
that arrive meanwhile into a single edit.  With the default interval of 1.2 s a channel
gets at most ~4.2 writes per 5 s even when several answers stream in it at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

DEFAULT_EDIT_INTERVAL = 1.2
"""Seconds between two writes to the same channel (5 per 5 s is Discord's limit)."""


class ChannelThrottle:
    """Hands out write slots per channel, at most one every ``interval`` seconds."""

    def __init__(
        self,
        interval: float = DEFAULT_EDIT_INTERVAL,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._next: dict[int, float] = {}

    def reserve(self, channel_id: int) -> float:
        """Book the next free slot for ``channel_id``; returns seconds to wait for it."""
        now = self._clock()
        slot = max(now, self._next.get(channel_id, 0.0))
        self._next[channel_id] = slot + self.interval
        if len(self._next) > 4096:
            self._prune(now)
        return slot - now

    async def wait(self, channel_id: int) -> None:
        """Wait until a write to ``channel_id`` may be made (the slot is then used)."""
        delay = self.reserve(channel_id)
        if delay > 0:
            await asyncio.sleep(delay)

    def _prune(self, now: float) -> None:
        for key in [key for key, at in self._next.items() if at < now]:
            del self._next[key]
