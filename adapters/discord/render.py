"""Splitting Markdown answers into Discord messages (2000 characters each).

Discord renders Markdown natively, so answers are sent as they are; the only work is
cutting long answers.  Cuts prefer paragraph and code-block boundaries, then line
boundaries, then spaces.  A fenced code block that has to be cut is closed at the end of
one message and reopened at the start of the next with the same fence (marker, info
string and indentation), so every message has balanced fences and no code line is lost.

Fenced code blocks are found by a CommonMark parser (pyromark, i.e. pulldown-cmark,
already installed for telegramify-markdown), not by regexes: indented fences (0-3
spaces, more inside list items), backtick and tilde fences of any length, info strings,
closing fences that must match the opener's character and be at least as long, and
fences left open at the end of the text are all read as CommonMark reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyromark

MESSAGE_LIMIT = 2000
"""Discord's maximum message content length, in characters (Discord API docs)."""


@dataclass(frozen=True, slots=True)
class Fence:
    """How a fenced code block is opened: ``indent`` + ``marker`` + ``info``.

    ``indent`` is the text before the marker on the opener line with list markers turned
    into spaces (``"        "`` inside a nested list, ``"> "`` in a quote); ``marker`` is
    the run of backticks or tildes (3 or more); ``info`` the rest of the line.
    """

    indent: str
    marker: str
    info: str

    def opener(self) -> str:
        """The line that reopens the block in the next message (with its newline)."""
        return f"{self.indent}{self.marker}{self.info}\n"

    def closer(self, after: str) -> str:
        """The closing fence to append to ``after`` (a newline first when needed)."""
        return ("" if not after or after.endswith("\n") else "\n") + self.indent + self.marker


@dataclass(frozen=True, slots=True)
class _Block:
    """A fenced code block in a text; all fields are str indexes into that text."""

    fence: Fence
    line: int
    """Start of the opener line."""
    body: int
    """Start of the first code line (just after the opener line's newline)."""
    close: int
    """Start of the closing fence line, or where the block ends when it has none."""
    end: int
    """Just after the closing fence (or the end of the unclosed block)."""
    closed: bool


def _blocks(text: str) -> list[_Block]:
    """The fenced code blocks of ``text`` in order, as CommonMark parses them."""
    if "```" not in text and "~~~" not in text:
        return []
    data = text.encode("utf-8")

    def index(offset: int) -> int:  # the parser reports UTF-8 byte offsets
        return offset if len(data) == len(text) else len(data[:offset].decode("utf-8"))

    blocks: list[_Block] = []
    start, content_end = -1, 0
    for event, span in pyromark.events_with_range(text):
        payload: Any = event
        if not isinstance(payload, dict):
            continue
        tag = payload.get("Start")
        if isinstance(tag, dict) and isinstance(tag.get("CodeBlock"), dict):
            start, content_end = span["start"], 0  # {"Fenced": info}; indented is a str
        elif start >= 0 and "Text" in payload:
            content_end = span["end"]
        elif start >= 0 and payload.get("End") == "CodeBlock":
            blocks.append(_make_block(text, index(start), index(content_end), index(span["end"])))
            start = -1
    return blocks


def _make_block(text: str, start: int, content_end: int, end: int) -> _Block:
    line = text.rfind("\n", 0, start) + 1
    newline = text.find("\n", start, end)
    body = end if newline < 0 else newline + 1
    opener = text[start:body].rstrip("\r\n")
    marker_len = len(opener) - len(opener.lstrip(opener[0]))
    indent = "".join(c if c in " \t>" else " " for c in text[line:start])
    fence = Fence(indent, opener[:marker_len], opener[marker_len:].rstrip())
    closed = text[max(content_end, body):end].strip() != ""
    close = text.rfind("\n", 0, end) + 1 if closed else end
    return _Block(fence, line, body, close, end, closed)


def _open_block(blocks: list[_Block], position: int) -> _Block | None:
    """The block whose code a message starting at str index ``position`` continues."""
    for block in blocks:
        if block.body <= position <= block.close:
            return block
    return None


def _dangling(text: str, blocks: list[_Block]) -> Fence | None:
    """The fence of a block left open at the end of ``text`` (``None`` when balanced)."""
    if blocks and not blocks[-1].closed and blocks[-1].end >= len(text.rstrip()):
        return blocks[-1].fence
    return None


def open_fence(text: str) -> Fence | None:
    """The code fence still open at the end of ``text`` (``None`` when balanced)."""
    return _dangling(text, _blocks(text))


def display(text: str) -> str:
    """``text`` with a dangling code fence closed, as shown while an answer streams."""
    fence = open_fence(text)
    return text if fence is None else text + fence.closer(text)


def fits(text: str, limit: int = MESSAGE_LIMIT) -> bool:
    """Whether ``text`` fits one message once its open fence (if any) is closed."""
    return len(display(text)) <= limit


def _next_cut(text: str, blocks: list[_Block], start: int, reopen: Fence | None,
              limit: int) -> tuple[str, int, Fence | None]:
    """Cut the message starting at str index ``start`` (inside a block when ``reopen``).

    Returns the message text (fences balanced, at most ``limit`` characters unless a
    fence itself is longer), the index where the next message starts, and the fence the
    next message must reopen (``None`` when the cut is outside code).
    """
    prefix = reopen.opener() if reopen else ""
    closer_room = 1 + max((len(b.fence.indent) + len(b.fence.marker) for b in blocks), default=0)
    room = max(limit - len(prefix) - closer_room, 1)
    cap = start + room
    floor_para = start + room // 2
    floor_line = start + room * 3 // 10
    newlines = []
    position = text.find("\n", start, cap)
    while position >= 0:
        newlines.append(position)
        position = text.find("\n", position + 1, cap)

    def inside(pos: int) -> _Block | None:
        return _open_block(blocks, pos + 1)

    def bad_code_cut(pos: int, block: _Block) -> bool:
        return pos + 1 in (block.body, block.close)  # an empty block either side

    for pos in reversed(newlines):  # 1. a paragraph or code-block boundary outside code
        if pos < floor_para:
            break
        if inside(pos) is None and _is_boundary(text, blocks, pos):
            return _cut(text, start, pos, prefix, None, skip=1)
    for pos in reversed(newlines):  # 2. any line boundary outside code
        if pos < floor_line:
            break
        if inside(pos) is None:
            return _cut(text, start, pos, prefix, None, skip=1)
    for pos in reversed(newlines):  # 3. a line boundary inside code: close and reopen
        if pos < floor_line:
            break
        block = inside(pos)
        if block is not None and not bad_code_cut(pos, block):
            return _cut(text, start, pos, prefix, block.fence, skip=1)
    # 4. a space, 5. a hard cut; never inside an opener line
    space = text.rfind(" ", floor_line, cap)
    pos, skip = (space, 1) if space > start else (cap, 0)
    if skip and _open_block(blocks, pos) is not None:
        skip = 0  # a space inside code is code: the next message keeps it
    for block in blocks:
        if block.line < pos < block.body and block.line > start:
            pos, skip = block.line - 1, 1  # before the opener line
        elif block.closed and start < block.close < pos + skip <= block.end:
            pos, skip = block.close - 1, 1  # before the closing line
    block = _open_block(blocks, pos + skip)
    return _cut(text, start, pos, prefix, block.fence if block else None, skip=skip)


def _cut(text: str, start: int, pos: int, prefix: str, fence: Fence | None, *,
         skip: int) -> tuple[str, int, Fence | None]:
    if fence is None:
        rest = pos + skip
        while rest < len(text) and text[rest] == "\n":
            rest += 1
        return (prefix + text[start:pos]).rstrip(), rest, None
    body = prefix + text[start:pos]
    return body + fence.closer(body), pos + skip, fence


def _is_boundary(text: str, blocks: list[_Block], pos: int) -> bool:
    """A newline that ends a paragraph, closes a code block or precedes one."""
    if text.startswith("\n\n", pos):
        return True
    return any(pos == block.end or pos + 1 == block.line for block in blocks)


def _tail(text: str, blocks: list[_Block], start: int, reopen: Fence | None) -> str:
    """The rest of ``text`` from ``start`` as one message, its open fence closed."""
    body = (reopen.opener() if reopen else "") + text[start:]
    fence = _dangling(text, blocks)
    return body if fence is None else body + fence.closer(body)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split ``text`` into messages of at most ``limit`` characters with balanced fences."""
    splitter = IncrementalSplitter(limit)
    return [chunk for chunk in splitter.feed(text) if chunk.strip()]


class IncrementalSplitter:
    """Splits a growing answer while it streams: earlier messages are frozen once cut.

    ``feed(full_text)`` returns the messages to show: the frozen ones followed by the
    live tail (with any open code fence closed for display).
    """

    def __init__(self, limit: int = MESSAGE_LIMIT) -> None:
        self.limit = limit
        self.frozen: list[str] = []
        self._offset = 0
        self._reopen: Fence | None = None
        self._consumed_text = ""

    def feed(self, full: str) -> list[str]:
        """Messages for the answer so far (or the final answer)."""
        if not full.startswith(self._consumed_text):
            self.frozen, self._offset, self._reopen, self._consumed_text = [], 0, None, ""
        blocks = _blocks(full)
        while True:
            tail = _tail(full, blocks, self._offset, self._reopen)
            if len(tail) <= self.limit:
                break
            chunk, self._offset, self._reopen = _next_cut(
                full, blocks, self._offset, self._reopen, self.limit)
            if chunk.strip():
                self.frozen.append(chunk)
            self._consumed_text = full[: self._offset]
        if full[self._offset :].strip():
            return [*self.frozen, tail]
        return list(self.frozen)
