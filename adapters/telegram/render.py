"""Markdown → Telegram text + entities, split into messages of at most 4096 UTF-16 units.

Model answers are Markdown; Telegram wants plain text plus ``MessageEntity`` spans whose
offsets count UTF-16 code units. telegramify-markdown's event walker does the conversion
(see ``_TextHtmlWalker`` for raw HTML); this module splits the result on paragraph /
code-block boundaries. A code block that is
too long for one message is cut at a line boundary and its ``pre`` entity (with its
language) is repeated in the next message, i.e. the block is closed and reopened.
When conversion fails the raw text is used as plain text, so text is never lost.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from dataclasses import dataclass, field

from aiogram import types
from telegramify_markdown import MessageEntity, utf16_len
from telegramify_markdown.config import RenderConfig, get_runtime_config
from telegramify_markdown.converter import STANDARD_OPTIONS, EventWalker, _parse

TELEGRAM_TEXT_LIMIT = 4096
"""Maximum message text length in UTF-16 code units."""
CAPTION_LIMIT = 1024
"""Telegram's photo caption limit, in UTF-16 units."""

_WHITESPACE = " \n\t\r"
_BLOCK_ENTITY_TYPES = frozenset({"pre", "blockquote", "expandable_blockquote"})
_LINE_BREAK_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)
_LIBRARY_TAGS = frozenset({"<tg-spoiler>", "</tg-spoiler>"})
"""Inline HTML the library itself writes for ``||spoiler||``; it keeps its meaning."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rendered:
    """Plain text and its entities (offsets in UTF-16 code units)."""

    text: str
    entities: tuple[MessageEntity, ...] = field(default_factory=tuple)

    def plain(self) -> Rendered:
        """The same text without any formatting (the fallback when entities are refused)."""
        return Rendered(self.text)

    def append(self, other: Rendered, separator: str = "\n\n") -> Rendered:
        """This text, ``separator``, then ``other`` (its entities shifted accordingly)."""
        if not self.text:
            return other
        if not other.text:
            return self
        shift = utf16_len(self.text + separator)
        moved = tuple(entity.copy_with(offset=entity.offset + shift) for entity in other.entities)
        return Rendered(self.text + separator + other.text, self.entities + moved)

    def aiogram_entities(self) -> list[types.MessageEntity] | None:
        """The entities as aiogram objects (``None`` when there are none)."""
        if not self.entities:
            return None
        return [types.MessageEntity(**entity.to_dict()) for entity in self.entities]


class _TextHtmlWalker(EventWalker):
    """telegramify-markdown's walker, but raw HTML is text, not dropped.

    CommonMark passes raw HTML (``<img>``, ``List<String>``, ``<!-- x -->``, HTML
    blocks) through for a browser to interpret; Telegram has no browser, and the
    library's walker silently drops those events, so ``List<String>`` became ``List``
    and an answer made only of HTML became empty. Here the HTML is written verbatim;
    ``<br>`` (any spelling) becomes the line break it means (a space in a table cell).
    Entities (``&lt;``) and autolinks were already right: the parser decodes them.
    ``<tg-spoiler>`` keeps its meaning: the library writes it for ``||spoiler||``.
    Relies on the walker's ``_handle_event`` / ``_on_inline_html`` hooks of
    telegramify-markdown 1.4; tests/adapters/telegram/test_render.py guards them.
    """

    def __init__(self, config: RenderConfig, source_markdown: str) -> None:
        super().__init__(config, source_markdown)
        self._html_block: list[str] = []

    def _handle_event(self, event: object) -> None:
        payload, source = event if isinstance(event, tuple) else (event, None)
        if not isinstance(payload, dict):
            super()._handle_event(event)
        elif "Html" in payload:  # one line of an HTML block
            self._html_block.append(payload["Html"])
        elif payload.get("Start") == "HtmlBlock":
            self._on_start_paragraph(self._source_start(source))
            self._html_block = []
        elif payload.get("End") == "HtmlBlock":
            self._on_text("".join(self._html_block).rstrip("\n"))
            self._on_end_paragraph()
        else:
            super()._handle_event(event)

    def _on_inline_html(self, html: str) -> None:
        if html.strip().lower() in _LIBRARY_TAGS:
            super()._on_inline_html(html)
        elif _LINE_BREAK_TAG.fullmatch(html.strip()):
            self._on_text(" " if self._in_table_cell else "\n")
        else:
            self._on_text(html)


def render_markdown(markdown: str) -> Rendered:
    """Convert Markdown to text + entities; falls back to the raw text on any failure.

    Everything that is not Markdown formatting (raw HTML, ``a < b``, generics such as
    ``List<String>``) reaches the text verbatim; non-blank input never renders empty.
    """
    if not markdown.strip():
        return Rendered("")
    try:
        source, events = _parse(markdown, STANDARD_OPTIONS, latex_escape=True)
        text, entities, _ = _TextHtmlWalker(get_runtime_config(), source).walk(events)
    except Exception:  # a converter bug must never lose the answer
        log.warning("markdown conversion failed; sending plain text", exc_info=True)
        return Rendered(markdown)
    if not text.strip():  # e.g. only an image without alt text: show the source
        return Rendered(markdown)
    return Rendered(text, tuple(entities))


def render_chunks(markdown: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[Rendered]:
    """Render Markdown and split it into messages of at most ``limit`` UTF-16 units."""
    return split_rendered(render_markdown(markdown), limit)


def plain_chunks(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[Rendered]:
    """Split unformatted text into messages of at most ``limit`` UTF-16 units."""
    return split_rendered(Rendered(text), limit)


def split_rendered(rendered: Rendered, limit: int = TELEGRAM_TEXT_LIMIT) -> list[Rendered]:
    """Split into chunks ≤ ``limit`` units, preferring paragraph, then line boundaries.

    Whitespace at chunk edges is trimmed; whitespace-only chunks are dropped.
    """
    return [chunk for chunk, _ in split_with_ends(rendered, limit)]


def split_with_ends(rendered: Rendered, limit: int = TELEGRAM_TEXT_LIMIT, *,
                    start: int = 0) -> list[tuple[Rendered, int]]:
    """Split ``rendered.text[start:]`` (``start`` is a str index) like ``split_rendered``;
    each chunk comes with the str index where it ends, so a streaming answer can freeze
    a prefix and later split only what follows it. Entities crossing ``start`` or a cut
    are clipped to each chunk (a code block is closed and reopened with its language).
    """
    text = rendered.text
    if start == 0 and utf16_len(text) <= limit:  # the common case: no offset table needed
        return [(chunk, len(text))] if (chunk := _trimmed(rendered)).text else []
    units = _utf16_offsets(text)
    block_ranges = [
        (entity.offset, entity.offset + entity.length)
        for entity in rendered.entities
        if entity.type in _BLOCK_ENTITY_TYPES
    ]
    chunks: list[tuple[Rendered, int]] = []
    while start < len(text):
        end = _chunk_end(text, units, start, limit, block_ranges)
        chunk = _slice(rendered, units, start, end)
        if chunk.text:
            chunks.append((chunk, end))
        start = end
    return chunks


def clip_utf16(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 units (Telegram's unit), never mid-character."""
    if utf16_len(text) <= limit:
        return text
    return text.encode("utf-16-le")[:limit * 2].decode("utf-16-le", "ignore")


def entities_refused(message: str) -> bool:
    """Whether a Bot API error message means the entities were refused (send plain)."""
    return "can't parse entities" in message or "entities" in message.lower()


def _trimmed(rendered: Rendered) -> Rendered:
    """The whole text without leading newlines / trailing whitespace, entities clipped."""
    text = rendered.text
    if text == text.lstrip("\r\n").rstrip(_WHITESPACE):
        return rendered
    return _slice(rendered, _utf16_offsets(text), 0, len(text))


def _utf16_offsets(text: str) -> list[int]:
    """``offsets[i]`` is the UTF-16 offset of ``text[i]``; the last item is the total."""
    if text.isascii() or max(text) <= "\uffff":  # no surrogate pairs: one unit each
        return list(range(len(text) + 1))
    offsets = [0] * (len(text) + 1)
    total = 0
    for index, char in enumerate(text):
        offsets[index] = total
        total += 2 if ord(char) > 0xFFFF else 1
    offsets[len(text)] = total
    return offsets


def _chunk_end(
    text: str, units: list[int], start: int, limit: int, block_ranges: list[tuple[int, int]]
) -> int:
    """Where the chunk starting at ``start`` (a str index) should end.

    Line boundaries are ranked (see ``_boundary_rank``); the best one in the second half
    of the budget wins, the furthest on ties. A block that fits in one message is only
    cut when nothing else is possible; then a space, and a hard cut is the last resort.
    """
    budget = units[start] + limit
    if units[len(text)] <= budget:
        return len(text)
    # The furthest index whose offset still fits (units only grow), at least one char.
    hard_end = max(start + 1, min(bisect_right(units, budget) - 1, len(text)))
    half_way = units[start] + limit // 2
    late: list[tuple[int, int]] = []
    early: list[tuple[int, int]] = []
    newline = text.find("\n", start, hard_end)
    while newline != -1:
        end = newline + 1
        candidate = (_boundary_rank(units[end], end, text, block_ranges, limit), end)
        (late if units[end] >= half_way else early).append(candidate)
        newline = text.find("\n", end, hard_end)
    for pool in ([c for c in late if c[0] > 0], [c for c in early if c[0] > 0], late, early):
        if pool:
            return max(pool)[1]
    space = text.rfind(" ", start, hard_end)  # one long line: keep words whole
    in_block = any(first < units[space] < last for first, last in block_ranges)
    if space > start and units[space + 1] >= half_way and not in_block:
        return space + 1
    return hard_end  # code keeps its spaces: cut mid-line


def _boundary_rank(
    unit: int, end: int, text: str, block_ranges: list[tuple[int, int]], limit: int
) -> int:
    """How good a line boundary is for a cut.

    3: between paragraphs or at a code block edge; 2: between lines; 1: inside a block
    too long for any message; 0: inside a block that would fit whole in a message.
    """
    for block_start, block_end in block_ranges:
        if block_start < unit < block_end:
            return 1 if block_end - block_start > limit else 0
    at_block_edge = any(unit in edges for edges in block_ranges)
    if at_block_edge or text[max(end - 2, 0):end] == "\n\n":
        return 3
    return 2


def _slice(rendered: Rendered, units: list[int], start: int, end: int) -> Rendered:
    """The part ``text[start:end]``, trimmed, with the entities clipped to it."""
    text = rendered.text
    while start < end and text[start] in "\r\n":
        start += 1
    while end > start and text[end - 1] in _WHITESPACE:
        end -= 1
    if start >= end:
        return Rendered("")
    first, last = units[start], units[end]
    clipped: list[MessageEntity] = []
    for entity in rendered.entities:
        entity_start = max(entity.offset, first)
        entity_end = min(entity.offset + entity.length, last)
        if entity_end > entity_start:
            clipped.append(entity.copy_with(offset=entity_start - first,
                                            length=entity_end - entity_start))
    return Rendered(text[start:end], tuple(clipped))
