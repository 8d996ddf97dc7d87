"""An in-memory chat for the shared stream engine's tests (no network).

``FakeChat`` is both the text surface and the parts surface, and keeps the chat as the
user sees it (messages in order, their text and buttons). Its splitter cuts messages of
``LIMIT`` characters and freezes them, like the platforms' splitters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from adapters.common.presenter import PartPresenter
from adapters.common.stream import StreamTexts, TextStream
from adapters.common.surface import Body, Buttons, Fault, Limits
from core.events import TurnEvent
from core.i18n import t
from core.parts import Action, ActionRows, Media

LIMIT = 10
"""Characters per message in the fake chat."""
AGAIN: ActionRows = ((Action("id1", "Again"),),)
STOP = Buttons(stop=True)
NONE = Buttons()
FINAL = Buttons(actions=AGAIN)
MB = 1024 * 1024
LIMITS = Limits(photo_max_bytes=10 * MB, upload_max_bytes=50 * MB, media_per_message=10,
                album_actions=True, mixed_albums=True, media_edit_from_text=True)
TEXTS = StreamTexts("Stopped.", lambda event: f"⚠️ failed: {event.key}")


class FakeError(Exception):
    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.value)
        self.fault = fault


class FakeSplitter:
    """Chunks of ``limit`` characters; the notice goes under the text after a blank
    line, the status under the last chunk when it fits. Cut chunks are frozen."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.frozen: list[str] = []

    def feed(self, body: Body) -> list[Any]:
        text = body.markdown
        if body.notice:
            text = f"{text}\n\n{body.notice}" if text else body.notice
        if not text.startswith("".join(self.frozen)):
            self.frozen = []
        end = sum(map(len, self.frozen))
        while len(text) - end > self.limit:
            self.frozen.append(text[end:end + self.limit])
            end += self.limit
        chunks = [*self.frozen, *([text[end:]] if text[end:] else [])]
        if body.status:
            if not chunks:
                return [body.status]
            if len(chunks[-1]) + 1 + len(body.status) <= self.limit:
                chunks[-1] += " " + body.status
        return chunks


@dataclass
class Message:
    id: int
    text: str
    buttons: Buttons | str


class FakeChat:
    """The chat as the user sees it, plus a log of every write."""

    limits = LIMITS

    def __init__(self, *, drafts: bool = False) -> None:
        self.drafts = drafts
        self.messages: list[Message] = []
        self.log: list[tuple[Any, ...]] = []
        self.fail: dict[str, list[Fault]] = {}
        self.draft_text = ""
        self.gave_up = 0
        self._next = 0

    def _maybe_fail(self, method: str) -> None:
        if self.fail.get(method):
            fault = self.fail[method].pop(0)
            self.log.append(("failed", method, fault.value))
            raise FakeError(fault)

    def _new(self, text: str, buttons: Buttons | str) -> int:
        self._next += 1
        self.messages.append(Message(self._next, text, buttons))
        return self._next

    def visible(self) -> list[tuple[str, Buttons | str]]:
        return [(m.text, m.buttons) for m in self.messages]

    # TextSurface
    def splitter(self) -> FakeSplitter:
        return FakeSplitter(LIMIT)

    async def send_chunk(self, chunk: str, buttons: Buttons, *, reply: bool) -> int:
        self._maybe_fail("send")
        self.log.append(("send", chunk, buttons))
        return self._new(chunk, buttons)

    async def edit_chunk(self, handle: int, chunk: str, buttons: Buttons) -> int:
        self._maybe_fail("edit")
        self.log.append(("edit", handle, chunk, buttons))
        message = next(m for m in self.messages if m.id == handle)
        message.text, message.buttons = chunk, buttons
        return handle

    async def delete(self, handle: int) -> None:
        self.log.append(("delete", handle))
        self.messages = [m for m in self.messages if m.id != handle]

    def stop_button(self, turn_id: str) -> bool:
        return True

    async def draft(self, chunk: str) -> None:
        self._maybe_fail("draft")
        self.log.append(("draft", chunk))
        self.draft_text = chunk

    async def typing(self) -> None:
        self.log.append(("typing",))

    def classify(self, error: BaseException) -> Fault | None:
        return error.fault if isinstance(error, FakeError) else None

    async def undeliverable(self) -> None:
        self.gave_up += 1

    # Surface (parts)
    async def send_text(self, markdown: str, actions: ActionRows, *,
                        reply: bool = False) -> int:
        self.log.append(("part text", markdown))
        return self._new(markdown, "part")

    async def edit_text(self, handle: int, markdown: str, actions: ActionRows) -> int:
        next(m for m in self.messages if m.id == handle).text = markdown
        return handle

    async def send_media(self, media: Sequence[Media], caption: str, actions: ActionRows, *,
                         reply: bool = False) -> list[int]:
        self.log.append(("media", caption))
        return [self._new(f"[{caption}]", "media")]

    async def edit_media(self, handle: int, media: Media | None, caption: str,
                         actions: ActionRows) -> int:
        next(m for m in self.messages if m.id == handle).text = f"[{caption}]"
        return handle

    def message_id(self, handle: int) -> str:
        return str(handle)

    def handle_of(self, message_id: str, media: bool) -> int:
        return int(message_id)

    def missing(self, error: BaseException) -> bool:
        return False


class FakePacer:
    """Previews only while ``open``; finals always (counted)."""

    refresh: float | None = None

    def __init__(self) -> None:
        self.open = True
        self.finals = 0

    def due_in(self, *, shown: bool, drafting: bool) -> float:
        return 0.0

    def admit(self, *, visible: bool, drafting: bool) -> str:
        return "go"

    async def preview_slot(self) -> AbstractContextManager[None] | None:
        return nullcontext() if self.open else None

    def draft_slot(self) -> AbstractContextManager[None]:
        return nullcontext()

    def draft_shown(self) -> None:
        return None

    async def final_slot(self) -> None:
        self.finals += 1


class PartsPacer:
    def preview_slot(self) -> AbstractContextManager[None] | None:
        return nullcontext()

    async def final_slot(self) -> None:
        return None


class Turn:
    """A ticket fed by the test: ``put`` events, the engine reads them."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[TurnEvent] = asyncio.Queue()

    def put(self, *events: TurnEvent) -> None:
        for event in events:
            self.queue.put_nowait(event)

    async def events(self) -> AsyncIterator[TurnEvent]:
        while True:
            yield await self.queue.get()


def engine(chat: FakeChat, pacer: FakePacer | None = None, **kwargs: Any) -> TextStream:
    parts = PartPresenter(chat, PartsPacer(), t, "en")
    return TextStream(chat, pacer or FakePacer(), t, "en", TEXTS, parts=parts,
                      retry_delay=0.0, **kwargs)


async def until(predicate: Callable[[], Any], rounds: int = 500) -> None:
    """Let the engine run until ``predicate()`` holds (event-loop turns, no clock)."""
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("the chat never got there")


def start(stream: TextStream, turn: Turn) -> asyncio.Task[TurnEvent | None]:
    return asyncio.create_task(stream.present(turn.events()))
