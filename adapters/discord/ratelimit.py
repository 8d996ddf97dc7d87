"""Per-channel pacing of message writes.

Discord allows about 5 message edits per 5 seconds per channel.  discord.py already
waits out 429s (and pre-emptively sleeps when ``X-RateLimit-Remaining`` hits 0), but a
429 still costs a round trip and delays the stream.  The streaming presenter therefore
asks this throttle for a slot before every send/edit, and coalesces the text deltas
that arrive meanwhile into a single edit.  With the default interval of 1.2 s a channel
gets at most ~4.2 writes per 5 s even when several answers stream in it at once.

Discord also limits a bot to 50 requests per second overall, so writes additionally pass
a global token bucket (``global_rate`` per second, bursts of ``global_burst``); a
channel delayed by it has its next slot pushed back accordingly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

DEFAULT_EDIT_INTERVAL = 1.2
"""Seconds between two writes to the same channel (5 per 5 s is Discord's limit)."""
DEFAULT_GLOBAL_RATE = 45.0
"""Writes per second across all channels (Discord's global limit is 50/s)."""


class ChannelThrottle:
    """Hands out write slots per channel, at most one every ``interval`` seconds."""

    def __init__(
        self,
        interval: float = DEFAULT_EDIT_INTERVAL,
        *,
        global_rate: float | None = DEFAULT_GLOBAL_RATE,
        global_burst: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.global_rate = global_rate
        self.global_burst = global_burst
        self._clock = clock
        self._next: dict[int, float] = {}
        self._tokens = float(global_burst)
        self._refilled = clock()
        self._global_next = 0.0

    def reserve(self, channel_id: int) -> float:
        """Book the next free slot for ``channel_id``; returns seconds to wait for it."""
        now = self._clock()
        slot = max(now, self._next.get(channel_id, 0.0))
        self._next[channel_id] = slot + self.interval
        if len(self._next) > 4096:
            self._prune(now)
        return slot - now

    def free(self, channel_id: int) -> bool:
        """Whether a write to ``channel_id`` could be made now (books nothing)."""
        return self._next.get(channel_id, 0.0) <= self._clock()

    async def wait(self, channel_id: int) -> None:
        """Wait until a write to ``channel_id`` may be made (the slot is then used)."""
        delay = self.reserve(channel_id)
        if delay > 0:
            await asyncio.sleep(delay)
        if self.global_rate:
            delay = self._take_global()
            if delay > 0:
                at = self._clock() + delay
                self._next[channel_id] = max(self._next.get(channel_id, 0.0), at + self.interval)
                await asyncio.sleep(delay)

    def _take_global(self) -> float:
        """Take a global token; returns how long to wait for it (FIFO once drained)."""
        assert self.global_rate
        now = self._clock()
        self._tokens = min(float(self.global_burst),
                           self._tokens + (now - self._refilled) * self.global_rate)
        self._refilled = now
        if self._tokens >= 1 and self._global_next <= now:
            self._tokens -= 1
            return 0.0
        slot = max(now, self._global_next)
        self._global_next = slot + 1.0 / self.global_rate
        self._tokens = 0.0
        return slot - now

    def _prune(self, now: float) -> None:
        for key in [key for key, at in self._next.items() if at < now]:
            del self._next[key]
