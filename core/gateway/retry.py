"""Retry timing: exponential backoff with jitter; a server's Retry-After wins."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER = 30.0
"""Longest wait (seconds) we accept from a Retry-After header."""


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds to wait according to ``Retry-After-Ms`` / ``Retry-After`` (seconds or HTTP date).

    ``headers`` must look names up case-insensitively (httpx2/aiohttp headers do).
    Returns ``None`` when absent or unparsable; never negative.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _as_seconds(millis)
        if seconds is not None:
            return seconds / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _as_seconds(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _as_seconds(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long to wait before retry number ``attempt`` (0-based).

    Exponential (``base * 2**attempt``) capped at ``cap``, with "equal jitter"
    (a random factor in [0.5, 1]).  A server-provided Retry-After replaces the
    computed delay, capped at ``retry_after_cap``.
    """

    base: float = 0.5
    cap: float = 8.0
    retry_after_cap: float = MAX_RETRY_AFTER

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        exponential = min(self.cap, self.base * 2.0**attempt)
        return exponential * (0.5 + random.random() / 2)
