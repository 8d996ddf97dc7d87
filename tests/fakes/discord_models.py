"""Records, limits and wire helpers shared by the fake Discord modules.

Nothing here talks to the network; see ``tests.fakes.discord`` for the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

DISCORD_EPOCH_MS = 1_420_070_400_000

# message flags
FLAG_EPHEMERAL = 64
FLAG_LOADING = 128

# channel types
TEXT_CHANNEL = 0
DM_CHANNEL = 1
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12

# permissions granted to the bot role: view, send, manage messages, embed, attach, read
# history, add reactions, use app commands, create public/private threads, send in threads,
# manage threads.
BOT_PERMISSIONS = (
    (1 << 6) | (1 << 10) | (1 << 11) | (1 << 13) | (1 << 14) | (1 << 15) | (1 << 16)
    | (1 << 31) | (1 << 34) | (1 << 35) | (1 << 36) | (1 << 38)
)
ADMIN_PERMISSIONS = (1 << 3) | (1 << 5)  # Administrator, Manage Server
EVERYONE_PERMISSIONS = (1 << 6) | (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (
    1 << 31
)


class SnowflakeGen:
    """Monotonic snowflake generator whose ids encode the current time (like Discord's)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        """Return a fresh, strictly increasing snowflake."""
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        candidate = now_ms << 22
        self._last = max(candidate, self._last + 1)
        return self._last


def iso_now() -> str:
    """Current UTC time in Discord's ISO-8601 format."""
    return datetime.now(UTC).isoformat()


def json_answer(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON response with Content-Type exactly ``application/json`` (discord.py needs that)."""
    hdrs = {"Content-Type": "application/json"}
    if headers:
        hdrs.update(headers)
    return web.Response(body=json.dumps(data).encode(), status=status, headers=hdrs)


def error_answer(
    status: int, message: str, code: int, errors: dict[str, Any] | None = None
) -> web.Response:
    """Discord-style error body ``{"message", "code"[, "errors"]}``."""
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return json_answer(body, status=status)


def too_long_errors(field_path: list[str], limit: int) -> dict[str, Any]:
    """Nested ``errors`` object of a 50035 Invalid Form Body for a too long string."""
    leaf: dict[str, Any] = {
        "_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}
        ]
    }
    for key in reversed(field_path):
        leaf = {key: leaf}
    return leaf


@dataclass
class ApiCall:
    """One REST request the fake answered (path is relative to ``/api/v10``)."""

    method: str
    path: str
    body: Any
    status: int
    at: float

    def __str__(self) -> str:
        body = json.dumps(self.body, default=str)[:160] if self.body is not None else ""
        return f"{self.method} {self.path} -> {self.status} {body}"


@dataclass
class FakeFile:
    """An uploaded file (by a user or the bot)."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass
class FakeUser:
    """A Discord user known to the fake."""

    id: int
    username: str
    bot: bool = False
    roles: list[int] = field(default_factory=list)
    locale: str = "en-US"


@dataclass
class FakeChannel:
    """A text channel, DM channel or thread."""

    id: int
    type: int
    name: str = ""
    guild_id: int | None = None
    parent_id: int | None = None
    owner_id: int | None = None
    recipient_id: int | None = None
    starter_message_id: int | None = None
    position: int = 0

    @property
    def is_thread(self) -> bool:
        """True for public/private threads."""
        return self.type in (PUBLIC_THREAD, PRIVATE_THREAD)


@dataclass
class FakeMessage:
    """Current state of a message (after edits)."""

    id: int
    channel_id: int
    author_id: int
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, FakeFile] = field(default_factory=dict)  # by attachment id (str)
    flags: int = 0
    edits: int = 0
    deleted: bool = False
    reference_id: int | None = None
    interaction_id: int | None = None
    webhook_id: int | None = None
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None
    history: list[str] = field(default_factory=list)  # previous contents, oldest first
    sticker_items: list[dict[str, Any]] = field(default_factory=list)  # {"id","name","format_type"}

    @property
    def ephemeral(self) -> bool:
        """True if the message has the EPHEMERAL flag."""
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while a deferred interaction response shows "thinking"."""
        return bool(self.flags & FLAG_LOADING)

    def file_bytes(self, filename: str) -> bytes:
        """Bytes of an attached file by filename (AssertionError if absent)."""
        for att in self.attachments:
            if att["filename"] == filename:
                return self.files[str(att["id"])].data
        raise AssertionError(f"message {self.id} has no attachment {filename!r}")


@dataclass
class InteractionResponse:
    """One thing the bot did with an interaction.

    ``kind`` is ``"callback"`` (``type`` = 4/5/6/7/8/9), ``"edit_original"``,
    ``"delete_original"``, ``"followup"``, ``"edit_followup"`` or ``"delete_followup"``.
    ``data`` is the JSON the bot sent (callback ``data`` or the webhook body).
    """

    kind: str
    type: int | None
    data: dict[str, Any]
    at: float
    message_id: int | None = None

    @property
    def flags(self) -> int:
        """Message flags the bot asked for (64 = ephemeral)."""
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        """True if the ephemeral flag (64) was requested."""
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def content(self) -> str | None:
        """Content sent with this response, if any."""
        return self.data.get("content")


@dataclass
class FakeInteraction:
    """An interaction the fake dispatched, and everything the bot answered."""

    id: int
    token: str
    type: int
    channel_id: int
    user_id: int
    guild_id: int | None
    name: str | None = None
    custom_id: str | None = None
    message_id: int | None = None  # component interactions: the clicked message
    dispatched_at: float = 0.0
    responses: list[InteractionResponse] = field(default_factory=list)
    callback_type: int | None = None
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None  # autocomplete answer
    expired: bool = False
    _messages: dict[int, FakeMessage] = field(default_factory=dict, repr=False)
    _changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def acknowledged(self) -> bool:
        """True once an initial callback was accepted."""
        return self.callback_type is not None

    @property
    def callback(self) -> InteractionResponse | None:
        """The accepted initial callback, if any."""
        return next((r for r in self.responses if r.kind == "callback"), None)

    @property
    def ephemeral(self) -> bool:
        """True if the initial response was ephemeral."""
        cb = self.callback
        return bool(cb and cb.ephemeral)

    @property
    def original(self) -> FakeMessage | None:
        """Current state of the original response message (None before/without one)."""
        if self.original_id is None:
            return None
        return self._messages.get(self.original_id)

    @property
    def followups(self) -> list[FakeMessage]:
        """Follow-up messages (current state), oldest first."""
        return [self._messages[i] for i in self.followup_ids if i in self._messages]

    def record(self, response: InteractionResponse) -> None:
        """Append a response and wake ``wait_responses`` waiters."""
        self.responses.append(response)
        self._changed.set()

    async def wait_responses(
        self, count: int = 1, timeout: float = 5.0
    ) -> list[InteractionResponse]:
        """Wait until at least ``count`` responses were recorded."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.responses) < count:
            self._changed.clear()
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(
                    f"interaction {self.name or self.custom_id}: {len(self.responses)} responses "
                    f"after {timeout}s, wanted {count}: {self.responses}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return self.responses


@dataclass
class DiscordLimits:
    """Rate-limit and size rules the fake enforces (mutable at runtime).

    Message creates/edits are counted per channel, interaction webhook calls per token.
    ``advertise_headers=False`` drops the ``X-RateLimit-*`` headers so discord.py cannot
    pre-empt and really gets 429s (which it waits out thanks to the ``Via`` header).
    """

    enabled: bool = True
    per_channel: int = 5
    window: float = 5.0
    advertise_headers: bool = True
    max_content: int = 2000


@dataclass
class _Window:
    start: float
    count: int = 0


class RateLimiter:
    """Fixed-window counter per key, producing Discord's headers and 429 bodies."""

    def __init__(self, limits: DiscordLimits) -> None:
        self.limits = limits
        self._windows: dict[str, _Window] = {}

    def hit(self, key: str, bucket: str) -> tuple[bool, dict[str, str], float]:
        """Count one request; returns (allowed, headers, retry_after)."""
        lim = self.limits
        now = time.monotonic()
        win = self._windows.get(key)
        if win is None or now >= win.start + lim.window:
            win = self._windows[key] = _Window(start=now)
        reset_after = max(win.start + lim.window - now, 0.001)
        if lim.enabled and win.count >= lim.per_channel:
            return False, {}, reset_after
        win.count += 1
        if not lim.advertise_headers:
            return True, {}, 0.0
        remaining = max(lim.per_channel - win.count, 0) if lim.enabled else lim.per_channel
        return True, ratelimit_headers(lim.per_channel, remaining, reset_after, bucket), 0.0


def ratelimit_headers(
    limit: int, remaining: int, reset_after: float, bucket: str
) -> dict[str, str]:
    """The ``X-RateLimit-*`` headers of a normal answer."""
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }


def rate_limited_answer(retry_after: float, bucket: str) -> web.Response:
    """A 429 that discord.py waits out: ``Via`` header + JSON retry_after (float seconds)."""
    body = {"message": "You are being rate limited.", "retry_after": round(retry_after, 3),
            "global": False}
    headers = {
        "Via": "1.1 google",
        "Retry-After": str(max(1, int(retry_after + 0.999))),
        "X-RateLimit-Scope": "user",
        "X-RateLimit-Limit": "0",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }
    return json_answer(body, status=429, headers=headers)
