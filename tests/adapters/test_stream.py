"""The shared stream engine on an in-memory chat: what the user sees as an answer streams.

No network: ``FakeChat`` is both the text surface and the parts surface, and keeps the
chat as the user sees it (messages in order, their text and buttons). Its splitter cuts
messages of ``LIMIT`` characters and freezes them, like the platforms' splitters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.common.presenter import PartPresenter
from adapters.common.stream import StreamTexts, TextStream
from adapters.common.surface import Body, Buttons, Fault, Limits
from core.events import (
    PartShown,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnEvent,
    TurnFailed,
    TurnFinal,
    TurnStarted,
)
from core.i18n import t
from core.parts import Action, ActionRows, Media, MediaPart, Progress, ProgressPart

LIMIT = 10
"""Characters per message in the fake chat."""
AGAIN: ActionRows = ((Action("id1", "Again"),),)
STOP = Buttons(stop=True)
NONE = Buttons()
FINAL = Buttons(actions=AGAIN)
MB = 1024 * 1024
LIMITS = Limits(photo_max_bytes=10 * MB, upload_max_bytes=50 * MB, media_per_message=10,
                album_actions=True, mixed_albums=True, media_edit_from_text=True)
TEXTS = StreamTexts("Stopped.", lambda event: f"failed: {event.key}")


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


# -------------------------------------------------------------------------------- tests
async def test_an_answer_is_sent_edited_frozen_and_continued_with_buttons_at_the_end(
        ) -> None:
    chat, turn = FakeChat(), Turn()
    task = start(engine(chat), turn)
    turn.put(TurnStarted("t1", "m"), TextDelta("abcdef"))
    await until(lambda: chat.visible() == [("abcdef", STOP)])
    turn.put(TextDelta("ghijkl"))
    await until(lambda: chat.visible() == [("abcdefghij", NONE), ("kl", STOP)])
    turn.put(TurnFinal("t1", "m", "abcdefghijkl", actions=AGAIN))
    assert await task == TurnFinal("t1", "m", "abcdefghijkl", actions=AGAIN)

    assert chat.visible() == [("abcdefghij", NONE), ("kl", FINAL)]
    assert [entry for entry in chat.log if entry[0] != "typing"] == [
        ("send", "abcdef", STOP), ("edit", 1, "abcdefghij", NONE), ("send", "kl", STOP),
        ("edit", 2, "kl", FINAL)]


async def test_final_buttons_go_under_the_last_chunk_only() -> None:
    chat, turn = FakeChat(), Turn()
    answer = "x" * 25
    turn.put(TurnFinal("t1", "m", answer, actions=AGAIN))
    await engine(chat).present(turn.events())
    assert chat.visible() == [("x" * 10, NONE), ("x" * 10, NONE), ("x" * 5, FINAL)]


async def test_a_cut_off_answer_gets_the_length_note_carrying_the_buttons() -> None:
    chat, turn = FakeChat(), Turn()
    turn.put(TurnFinal("t1", "m", "abc", actions=AGAIN, truncated=True))
    await engine(chat).present(turn.events())
    note = FakeSplitter(LIMIT).feed(Body(t("turn.length_note", "en")))[0]
    assert chat.visible() == [("abc", NONE), (note, FINAL)]


async def test_parts_after_the_text_wait_for_the_final_text() -> None:
    chat, turn = FakeChat(), Turn()
    progress = ProgressPart(Progress("tool.running", {"name": "draw"}), ref="p")
    picture = MediaPart((Media("image", data=b"png", caption="a cat"),))
    task = start(engine(chat), turn)
    turn.put(PartShown(progress))  # before any text: shown at once
    await until(lambda: len(chat.messages) == 1)
    turn.put(TextDelta("Look:"), PartShown(picture), TextDelta(" cat"))
    await until(lambda: ("Look: cat", STOP) in chat.visible())
    assert not any(entry[0] == "media" for entry in chat.log)  # held back
    turn.put(TurnFinal("t1", "m", "Look: cat"))
    await task
    assert [text for text, _ in chat.visible()][1:] == ["Look: cat", "[a cat]"]


async def test_a_tool_status_sits_under_the_text_until_the_tool_is_done() -> None:
    chat, turn = FakeChat(), Turn()
    task = start(engine(chat), turn)
    turn.put(TextDelta("Hi"), ToolCallStarted("c1", "w", "{}", Progress("x")))
    await until(lambda: chat.visible() == [("Hi x", STOP)])
    turn.put(ToolCallFinished("c1", "w", "ok"))
    await until(lambda: chat.visible() == [("Hi", STOP)])
    turn.put(TurnFinal("t1", "m", "Hi"))
    await task
    assert chat.visible() == [("Hi", NONE)]


async def test_a_failed_final_edit_is_sent_as_a_new_message() -> None:
    chat, turn = FakeChat(), Turn()
    task = start(engine(chat), turn)
    turn.put(TextDelta("abc"))
    await until(lambda: chat.visible() == [("abc", STOP)])
    chat.fail["edit"] = [Fault.REFUSED]  # e.g. the message was deleted
    turn.put(TurnFinal("t1", "m", "abc def", actions=AGAIN))
    await task
    assert chat.visible() == [("abc def", FINAL)]  # the stale message is gone
    assert [e for e in chat.log if e[0] != "typing"][1:] == [
        ("failed", "edit", "refused"), ("delete", 1), ("send", "abc def", FINAL)]
    assert chat.gave_up == 0


async def test_a_final_edit_failing_twice_on_the_network_is_sent_anew() -> None:
    chat, turn = FakeChat(), Turn()
    task = start(engine(chat), turn)
    turn.put(TextDelta("abc"))
    await until(lambda: chat.visible() == [("abc", STOP)])
    chat.fail["edit"] = [Fault.RETRYABLE, Fault.RETRYABLE]
    turn.put(TurnFinal("t1", "m", "abc def"))
    await task
    assert chat.visible() == [("abc def", NONE)]
    assert [e[0] for e in chat.log if e[0] != "typing"] == [
        "send", "failed", "failed", "delete", "send"]


async def test_a_final_send_is_retried_then_given_up_with_a_notice() -> None:
    chat, turn = FakeChat(), Turn()
    chat.fail["send"] = [Fault.RETRYABLE]
    turn.put(TurnFinal("t1", "m", "hello"))
    await engine(chat, attempts=3).present(turn.events())
    assert chat.visible() == [("hello", NONE)] and chat.gave_up == 0

    chat, turn = FakeChat(), Turn()
    chat.fail["send"] = [Fault.RETRYABLE] * 3
    turn.put(TurnFinal("t1", "m", "hello"))
    await engine(chat, attempts=3).present(turn.events())
    assert chat.visible() == [] and chat.gave_up == 1
    assert [e for e in chat.log if e[0] == "failed"] == [("failed", "send", "retryable")] * 3


async def test_a_stopped_answer_keeps_its_text_with_the_note() -> None:
    chat, turn = FakeChat(), Turn()
    turn.put(TextDelta("part"), TurnCancelled(partial_text="part"))
    await engine(chat).present(turn.events())
    assert chat.visible() == [("part\n\nStop", NONE), ("ped.", NONE)]


async def test_a_failure_keeps_the_partial_text_with_the_notice() -> None:
    chat, turn = FakeChat(), Turn()
    turn.put(TurnFailed("error.stream_cut", partial_text="ab"))
    await engine(chat).present(turn.events())
    assert "".join(text for text, _ in chat.visible()) == "ab\n\n⚠️ failed: error.stream_cut"


async def test_an_unreachable_chat_stops_every_write() -> None:
    chat, turn = FakeChat(), Turn()
    stream = engine(chat)
    task = start(stream, turn)
    chat.fail["send"] = [Fault.UNREACHABLE]
    turn.put(TextDelta("abc"))
    assert await task is None  # the engine stopped: the caller cancels the turn
    assert stream.unreachable and chat.messages == []
    assert [e[0] for e in chat.log if e[0] != "typing"] == ["failed"]


async def test_previews_wait_for_the_pacer_but_the_final_text_always_goes() -> None:
    chat, turn, pacer = FakeChat(), Turn(), FakePacer()
    pacer.open = False
    turn.put(TextDelta("abc"), TextDelta("def"), TurnFinal("t1", "m", "abcdef"))
    await engine(chat, pacer).present(turn.events())
    assert chat.visible() == [("abcdef", NONE)]
    assert [e[0] for e in chat.log if e[0] != "typing"] == ["send"] and pacer.finals == 1


async def test_drafts_carry_the_tail_and_full_chunks_become_messages() -> None:
    chat, turn = FakeChat(drafts=True), Turn()
    task = start(engine(chat), turn)
    turn.put(TextDelta("abcdef"))
    await until(lambda: chat.draft_text == "abcdef")
    assert chat.messages == []
    turn.put(TextDelta("ghijkl"))
    await until(lambda: chat.draft_text == "kl")
    assert chat.visible() == [("abcdefghij", NONE)]
    turn.put(TurnFinal("t1", "m", "abcdefghijkl"))
    await task
    assert chat.visible() == [("abcdefghij", NONE), ("kl", NONE)]


async def test_refused_drafts_fall_back_to_messages_and_edits() -> None:
    chat, turn = FakeChat(drafts=True), Turn()
    chat.fail["draft"] = [Fault.REFUSED]
    task = start(engine(chat), turn)
    turn.put(TextDelta("abc"))
    await until(lambda: chat.visible() == [("abc", STOP)])
    turn.put(TextDelta("d"))
    await until(lambda: chat.visible() == [("abcd", STOP)])
    turn.put(TurnFinal("t1", "m", "abcd"))
    await task
    assert chat.visible() == [("abcd", NONE)] and chat.draft_text == ""


@settings(max_examples=60, deadline=None)
@given(deltas=st.lists(st.text(alphabet="ab \n*", min_size=0, max_size=14), max_size=12),
       refusals=st.lists(st.booleans(), max_size=40))
def test_the_final_chunks_always_spell_the_final_text(deltas: list[str],
                                                      refusals: list[bool]) -> None:
    """Whatever the deltas and whichever previews the pacer refuses, the messages left
    in the chat are exactly the final text's chunks, in order, buttons on the last."""

    class Flaky(FakePacer):
        async def preview_slot(self) -> AbstractContextManager[None] | None:
            return None if refusals and refusals.pop() else nullcontext()

    async def run() -> list[tuple[str, Buttons | str]]:
        chat, turn = FakeChat(), Turn()
        task = start(engine(chat, Flaky()), turn)
        for delta in deltas:
            turn.put(TextDelta(delta))
            await asyncio.sleep(0)
        turn.put(TurnFinal("t1", "m", "".join(deltas), actions=AGAIN))
        await task
        return chat.visible()

    visible = asyncio.run(run())
    final = "".join(deltas)
    if final.strip():
        expected = FakeSplitter(LIMIT).feed(Body(final))
        assert [text for text, _ in visible] == expected
        assert [b for _, b in visible] == [NONE] * (len(expected) - 1) + [FINAL]
    else:  # nothing to show: the empty-answer notice
        assert "".join(text for text, _ in visible) == t("error.empty_answer", "en", model="m")
