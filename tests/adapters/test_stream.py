"""The shared stream engine on an in-memory chat (``tests/adapters/stream_fakes.py``):
what the user sees as an answer streams, fails, stops or is cut off."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager, nullcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.common.surface import Body, Buttons, Fault
from core.events import (
    PartShown,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinal,
    TurnStarted,
)
from core.i18n import t
from core.parts import Media, MediaPart, Progress, ProgressPart
from tests.adapters.stream_fakes import (
    AGAIN,
    FINAL,
    LIMIT,
    NONE,
    STOP,
    FakeChat,
    FakePacer,
    FakeSplitter,
    Turn,
    engine,
    start,
    until,
)


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
