"""Splitting Markdown answers into Discord messages (2000 characters each).

Discord renders Markdown natively, so answers are sent as they are; the only work is
cutting long answers.  Cuts prefer paragraph and code-block boundaries, then line
boundaries, then spaces.  A code block that has to be cut is closed at the end of one
message and reopened with its language at the start of the next, so every message has
balanced fences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MESSAGE_LIMIT = 2000
"""Discord's maximum message content length."""

_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_CLOSE = "\n```"


@dataclass(frozen=True, slots=True)
class Chunk:
    """One message cut from the front of a text.

    ``text`` is what to send (fences balanced), ``consumed`` how many characters of the
    input it used up, and ``reopen`` the prefix the next message must start with
    (``"```python\\n"`` when a code block was cut, else ``""``).
    """

    text: str
    consumed: int
    reopen: str


@dataclass(frozen=True, slots=True)
class _Fence:
    marker: str
    info: str


def _line_states(text: str) -> list[tuple[int, _Fence | None]]:
    """For every newline in ``text``: its index and the fence open after that line."""
    states: list[tuple[int, _Fence | None]] = []
    fence: _Fence | None = None
    start = 0
    while True:
        end = text.find("\n", start)
        line = text[start:] if end < 0 else text[start:end]
        fence = _advance(fence, line)
        if end < 0:
            break
        states.append((end, fence))
        start = end + 1
    return states


def _advance(fence: _Fence | None, line: str) -> _Fence | None:
    match = _FENCE_RE.match(line)
    if match is None:
        return fence
    marker, info = match.group(1), match.group(2).strip()
    if fence is None:
        if marker[0] == "`" and "`" in info:
            return None  # inline code such as ```a``` on one line
        return _Fence(marker, info)
    if marker[0] == fence.marker[0] and len(marker) >= len(fence.marker) and not info:
        return None
    return fence


def open_fence(text: str) -> _Fence | None:
    """The code fence still open at the end of ``text`` (``None`` when balanced)."""
    fence: _Fence | None = None
    for line in text.split("\n"):
        fence = _advance(fence, line)
    return fence


def _closing(fence: _Fence) -> str:
    return "\n" + fence.marker


def _reopen(fence: _Fence) -> str:
    return f"{fence.marker}{fence.info}\n"


def display(text: str) -> str:
    """``text`` with a dangling code fence closed, as shown while an answer streams."""
    fence = open_fence(text)
    if fence is None:
        return text
    return text + fence.marker if text.endswith("\n") else text + _closing(fence)


def fits(text: str, limit: int = MESSAGE_LIMIT) -> bool:
    """Whether ``text`` fits one message once its open fence (if any) is closed."""
    return len(display(text)) <= limit


def take_chunk(text: str, limit: int = MESSAGE_LIMIT, *, minimum: int = 0) -> Chunk:
    """Cut the first message off ``text``; never cuts before ``minimum`` characters."""
    if fits(text, limit):
        return Chunk(display(text), len(text), "")
    reserve = max(len(_CLOSE), 1 + _longest_marker(text))
    cap = max(limit - reserve, minimum + 1, 1)
    states = [(pos, fence) for pos, fence in _line_states(text[: cap + 1]) if pos <= cap]
    floor_para = max(minimum + 1, cap // 2)
    floor_line = max(minimum + 1, cap * 3 // 10)

    # 1. paragraph / code-block boundary outside code
    for pos, fence in reversed(states):
        if pos < floor_para:
            break
        if fence is None and _is_boundary(text, pos):
            return _cut_outside(text, pos)
    # 2. any line boundary outside code
    for pos, fence in reversed(states):
        if pos < floor_line:
            break
        if fence is None:
            return _cut_outside(text, pos)
    # 3. a line boundary inside a code block (close and reopen)
    for pos, fence in reversed(states):
        if pos < floor_line:
            break
        if fence is not None and not _is_fence_line_end(text, pos):
            return Chunk(text[:pos] + _closing(fence), pos + 1, _reopen(fence))
    # 4. a space, 5. a hard cut
    space = text.rfind(" ", floor_line, cap)
    pos = space if space > minimum else cap
    fence = open_fence(text[:pos])
    skip = 1 if space > minimum else 0
    if fence is None:
        return Chunk(text[:pos].rstrip(), pos + skip, "")
    return Chunk(text[:pos] + _closing(fence), pos + skip, _reopen(fence))


def _longest_marker(text: str) -> int:
    longest = 3
    for match in re.finditer(r"(?m)^ {0,3}(`{3,}|~{3,})", text):
        longest = max(longest, len(match.group(1)))
    return longest


def _is_boundary(text: str, pos: int) -> bool:
    """A newline that ends a paragraph, closes a code block or precedes one."""
    if text.startswith("\n\n", pos):
        return True
    line_start = text.rfind("\n", 0, pos) + 1
    if _FENCE_RE.match(text[line_start:pos]):
        return True  # the line just closed a code block (state after it is outside)
    next_end = text.find("\n", pos + 1)
    next_line = text[pos + 1 :] if next_end < 0 else text[pos + 1 : next_end]
    return _FENCE_RE.match(next_line) is not None


def _is_fence_line_end(text: str, pos: int) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    return _FENCE_RE.match(text[line_start:pos]) is not None


def _cut_outside(text: str, pos: int) -> Chunk:
    rest = pos
    while rest < len(text) and text[rest] == "\n":
        rest += 1
    return Chunk(text[:pos].rstrip(), rest, "")


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split ``text`` into messages of at most ``limit`` characters with balanced fences."""
    chunks: list[str] = []
    prefix = ""
    rest = text
    while True:
        tail = prefix + rest
        chunk = take_chunk(tail, limit, minimum=len(prefix))
        if chunk.text.strip():
            chunks.append(chunk.text)
        if chunk.consumed >= len(tail):
            return chunks
        rest = tail[chunk.consumed :]
        prefix = chunk.reopen
        if not rest.strip():
            return chunks


class IncrementalSplitter:
    """Splits a growing answer while it streams: earlier messages are frozen once cut.

    ``feed(full_text)`` returns the messages to show: the frozen ones followed by the
    live tail (with any open code fence closed for display).
    """

    def __init__(self, limit: int = MESSAGE_LIMIT) -> None:
        self.limit = limit
        self.frozen: list[str] = []
        self._offset = 0
        self._prefix = ""
        self._consumed_text = ""

    def feed(self, full: str) -> list[str]:
        """Messages for the answer so far (or the final answer)."""
        if not full.startswith(self._consumed_text):
            self.frozen, self._offset, self._prefix, self._consumed_text = [], 0, "", ""
        while True:
            tail = self._prefix + full[self._offset :]
            if fits(tail, self.limit):
                break
            chunk = take_chunk(tail, self.limit, minimum=len(self._prefix))
            self.frozen.append(chunk.text)
            self._offset += chunk.consumed - len(self._prefix)
            self._prefix = chunk.reopen
            self._consumed_text = full[: self._offset]
        if full[self._offset :].strip():
            return [*self.frozen, display(tail)]
        return list(self.frozen)
