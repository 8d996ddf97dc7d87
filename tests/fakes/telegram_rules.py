"""Telegram's rules as the fake Bot API enforces them: lengths, entities, flood limits.

Everything here is pure (no I/O) so it can be unit-tested and reused by other fakes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

TEXT_LIMIT = 4096
"""Maximum message text length in UTF-16 code units (after entity parsing)."""
CAPTION_LIMIT = 1024
"""Maximum media caption length in UTF-16 code units."""
DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""Bots may download files up to 20 MB through getFile."""
CALLBACK_DATA_LIMIT = 64
PHOTO_UPLOAD_LIMIT = 10 * 1024 * 1024
"""Bot API sendPhoto: "The photo must be at most 10 MB in size"."""
MEDIA_GROUP_SIZES = range(2, 11)
"""Bot API sendMediaGroup: an array of 2-10 items."""
"""callback_data of an inline button: 1-64 bytes."""

ENTITY_TYPES = frozenset(
    {
        "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
        "bold", "italic", "underline", "strikethrough", "spoiler", "blockquote",
        "expandable_blockquote", "code", "pre", "text_link", "text_mention",
        "custom_emoji", "date_time",
    }
)
"""MessageEntity types known to Bot API 10.x."""

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok":false,"error_code":..,"description":..}``."""

    def __init__(self, status: int, description: str, retry_after: int | None = None,
                 migrate_to_chat_id: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram would answer with."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        if self.migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": self.migrate_to_chat_id}
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 ``Bad Request: <detail>`` error."""
    return ApiError(400, f"Bad Request: {detail}")


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram measures in."""
    return len(text.encode("utf-16-le")) // 2


def check_text(text: str | None, *, caption: bool = False) -> None:
    """Raise the Telegram error for an empty or too long text/caption."""
    if caption:
        if text is not None and utf16_len(text) > CAPTION_LIMIT:
            raise bad_request("message caption is too long")
        return
    if text is None or not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > TEXT_LIMIT:
        raise bad_request("message is too long")


def check_entities(text: str, entities: Any) -> list[dict[str, Any]]:
    """Validate explicit entities against ``text``; return them (zero-length ones dropped).

    Raises 400 ``can't parse entities`` for unknown types, negative or out-of-range
    offsets/lengths (in UTF-16 units) and entities missing their mandatory fields.
    """
    if entities is None:
        return []
    if not isinstance(entities, list):
        raise bad_request("can't parse entities: entities must be an array")
    size = utf16_len(text)
    kept: list[dict[str, Any]] = []
    for index, entity in enumerate(entities):
        prefix = f"can't parse entities: entity #{index}"
        if not isinstance(entity, dict):
            raise bad_request(f"{prefix} is not an object")
        kind, offset, length = entity.get("type"), entity.get("offset"), entity.get("length")
        if kind not in ENTITY_TYPES:
            raise bad_request(f"{prefix} has unsupported type {kind!r}")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise bad_request(f"{prefix} ({kind}) has non-integer offset/length")
        if offset < 0 or length < 0 or offset + length > size:
            raise bad_request(
                f"{prefix} ({kind}) offset {offset} length {length} is outside the text "
                f"of {size} UTF-16 units"
            )
        if kind == "text_link" and not entity.get("url"):
            raise bad_request(f"{prefix} (text_link) has no url")
        if kind == "text_mention" and not isinstance(entity.get("user"), dict):
            raise bad_request(f"{prefix} (text_mention) has no user")
        if kind == "custom_emoji" and not entity.get("custom_emoji_id"):
            raise bad_request(f"{prefix} (custom_emoji) has no custom_emoji_id")
        if length:
            kept.append(entity)
    return kept


def check_reply_markup(markup: Any) -> None:
    """Validate an inline keyboard the way Telegram does (callback_data 1-64 bytes)."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard button: field \"inline_keyboard\" "
                          "must be an Array of Arrays")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse inline keyboard button: Text buttons are "
                                  "unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")


def split_like_client(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split a long paste into parts of at most ``limit`` UTF-16 units, like Telegram apps.

    The split prefers the last newline, then the last space, in the second half of the
    window; the separator itself is dropped (Telegram trims message edges anyway).
    Surrogate pairs are never cut.
    """
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        # longest prefix fitting into `limit` UTF-16 units
        cut, units = 0, 0
        for char in rest:
            width = 2 if ord(char) > 0xFFFF else 1
            if units + width > limit:
                break
            units += width
            cut += 1
        window = rest[:cut]
        split_at = -1
        for separator in ("\n", " "):
            position = window.rfind(separator)
            if position >= cut // 2:
                split_at = position
                break
        if split_at > 0:
            parts.append(window[:split_at])
            rest = rest[split_at + 1 :]
        else:
            parts.append(window)
            rest = rest[cut:]
    if rest or not parts:
        parts.append(rest)
    return parts


@dataclass
class FloodLimits:
    """Flood-control knobs of the fake. ``FloodLimits(enabled=False)`` disables them all.

    Token buckets: private chat ``chat_per_second`` sustained with ``chat_burst`` capacity;
    group ``group_per_minute`` sustained with ``group_burst`` capacity; bot-wide
    ``global_per_second`` (capacity equal to the rate); drafts per chat
    ``draft_per_second`` / ``draft_burst``. ``limited_methods``: the calls that take a
    message token. Edits (text, caption, media) count like sends: the Bot API FAQ states
    the limits as messages per chat and names no exception for edits (assumed; the exact
    accounting is undocumented).
    """

    enabled: bool = True
    chat_per_second: float = 1.0
    chat_burst: int = 3
    group_per_minute: float = 20.0
    group_burst: int = 5
    global_per_second: float = 30.0
    draft_per_second: float = 10.0
    draft_burst: int = 10
    escalate: bool = True
    limited_methods: frozenset[str] = field(
        default_factory=lambda: frozenset(
            {"sendMessage", "editMessageText", "editMessageCaption", "editMessageMedia",
             "sendPhoto", "sendDocument"}
        )
    )


class TokenBucket:
    """A classic token bucket; ``retry_after`` tells when the next token is available."""

    __slots__ = ("_clock", "capacity", "rate", "stamp", "tokens")

    def __init__(
        self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self.tokens = self.capacity
        self._clock = clock
        self.stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def retry_after(self) -> float:
        """0 when a token is available now, else seconds until one is."""
        self._refill()
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / self.rate if self.rate > 0 else math.inf

    def take(self) -> None:
        """Consume one token (call after ``retry_after() == 0``)."""
        self.tokens -= 1.0


class FloodControl:
    """Applies :class:`FloodLimits` to requests; raises the 429 ApiError Telegram sends.

    ``inside_window`` counts, per chat id, the calls that arrived while the chat was
    inside a ``retry_after`` window it had been told about (a well-behaved bot: 0).
    """

    def __init__(self, limits: FloodLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._chats: dict[int, TokenBucket] = {}
        self._drafts: dict[int, TokenBucket] = {}
        self._global: TokenBucket | None = None
        self._windows: dict[int, tuple[float, int]] = {}  # chat -> (closed until, last wait s)
        self.inside_window: dict[int, int] = {}

    def reset(self, limits: FloodLimits) -> None:
        """Start over with new limits (buckets full, no windows, counters cleared)."""
        self.__init__(limits, self._clock)  # type: ignore[misc]

    def check_window(self, chat_id: int) -> None:
        """Any call to ``chat_id``: raise 429 while the chat is inside a retry_after window.

        Escalation (*invented*): the new wait doubles the previous one (see FloodLimits).
        """
        window = self._windows.get(chat_id)
        if not self.limits.enabled or window is None:
            return
        until, last = window
        now = self._clock()
        if now >= until:
            return
        self.inside_window[chat_id] = self.inside_window.get(chat_id, 0) + 1
        seconds = 2 * last if self.limits.escalate else max(1, math.ceil(until - now))
        if self.limits.escalate:
            self._windows[chat_id] = (now + seconds, seconds)
        raise _too_many(seconds)

    def check_message(self, chat_id: int, is_private: bool) -> None:
        """Account one message/edit to ``chat_id``; raise 429 when over a limit."""
        limits = self.limits
        if not limits.enabled:
            return
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if is_private:
                bucket = TokenBucket(limits.chat_per_second, limits.chat_burst, self._clock)
            else:
                bucket = TokenBucket(limits.group_per_minute / 60.0, limits.group_burst,
                                     self._clock)
            self._chats[chat_id] = bucket
        if self._global is None:
            self._global = TokenBucket(limits.global_per_second, limits.global_per_second,
                                       self._clock)
        self._take(chat_id, bucket, self._global)

    def check_draft(self, chat_id: int) -> None:
        """Account one sendMessageDraft to ``chat_id`` (configurable, undocumented limit)."""
        limits = self.limits
        if not limits.enabled:
            return
        bucket = self._drafts.get(chat_id)
        if bucket is None:
            bucket = TokenBucket(limits.draft_per_second, limits.draft_burst, self._clock)
            self._drafts[chat_id] = bucket
        self._take(chat_id, bucket)

    def _take(self, chat_id: int, *buckets: TokenBucket) -> None:
        wait = max(bucket.retry_after() for bucket in buckets)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            self._windows[chat_id] = (self._clock() + seconds, seconds)
            raise _too_many(seconds)
        for bucket in buckets:
            bucket.take()


def _too_many(seconds: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler", "code": "code", "pre": "pre",
    "a": "text_link", "blockquote": "blockquote", "span": "spoiler",
}


class _HtmlEntities(HTMLParser):
    """Telegram's HTML parse mode: supported tags become entities, others are errors."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.units = 0
        self.open: list[tuple[str, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _HTML_TAGS.get(tag)
        values = dict(attrs)
        if kind is None or (tag == "span" and values.get("class") != "tg-spoiler"):
            raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}"')
        entity: dict[str, Any] = {"type": kind, "offset": self.units}
        if tag == "a":
            entity["url"] = values.get("href") or ""
        if tag == "blockquote" and "expandable" in values:
            entity["type"] = "expandable_blockquote"
        language = (values.get("class") or "").removeprefix("language-")
        if tag == "code" and self.open and self.open[-1][0] == "pre" and language:
            self.open[-1][1]["language"] = language
            entity["skip"] = True
        self.open.append((tag, entity))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise bad_request(f'can\'t parse entities: Unmatched end tag "{tag}"')
        _, entity = self.open.pop()
        entity["length"] = self.units - entity["offset"]
        if entity["length"] and not entity.pop("skip", False):
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.units += utf16_len(data)


def parse_html(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities of an HTML parse_mode text (400 on malformed markup)."""
    parser = _HtmlEntities()
    parser.feed(html)
    parser.close()
    if parser.open:
        tag = parser.open[-1][0]
        raise bad_request(f'can\'t parse entities: Can\'t find end tag corresponding to '
                          f'start tag "{tag}"')
    parser.entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.text), parser.entities
