"""Turns end to end: user sends X → the core streams, stores and answers Y."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.app import ChatCore
from core.conversation.keys import Actor, ChatRef
from core.events import TextDelta, TurnFailed, TurnFinal, TurnMerged, TurnStarted
from tests.core.conftest import ANN, BOB, GROUP, PRIVATE, CoreFactory, gateway_received, say
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_replies import Text


async def history(core: ChatCore, chat: ChatRef = PRIVATE,
                  actor: Actor = ANN) -> list[tuple[str, str]]:
    key = await core.conversation_key(chat, actor)
    conversation = await core.store.current_conversation(key)
    stored = await core.store.load_recent_messages(conversation, limit=1000)
    return [(m.role, m.content) for m in reversed(stored)]


async def test_streamed_answer_arrives_as_deltas_and_is_stored(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    fake_gateway.script(Text("Hello there, Ann!", chunk_size=3))
    events = await say(core, "hi")
    assert isinstance(events[0], TurnStarted)
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 3 and "".join(deltas) == "Hello there, Ann!"
    final = events[-1]
    assert isinstance(final, TurnFinal) and final.text == "Hello there, Ann!"
    assert final.usage.total_tokens > 0
    assert await history(core) == [("user", "hi"), ("assistant", "Hello there, Ann!")]
    sent = fake_gateway.chat_requests()[-1]
    assert sent["stream"] is True and sent["model"] == "gpt-3.5-turbo"
    assert sent["messages"][-1] == {"role": "user", "content": "hi"}


async def test_history_survives_a_restart(make_core: CoreFactory, fake_gateway: FakeGateway,
                                          tmp_path: Path) -> None:
    first = await make_core(db=tmp_path / "same.db")
    await say(first, "remember the word kiwi")
    await first.close()
    second = await make_core(db=tmp_path / "same.db")
    await say(second, "what was the word?")
    messages = fake_gateway.chat_requests()[-1]["messages"]
    assert [m["content"] for m in messages] == [
        "remember the word kiwi", "echo: remember the word kiwi", "what was the word?"]


async def test_trimming_keeps_the_newest_turns_within_budget(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    await core.run_command("model", {"name": "gpt-4-0314"}, PRIVATE, ANN)  # 8k context
    fake_gateway.script(*[Text("answer " * 400, chunk_size=1000) for _ in range(12)])
    for index in range(12):
        await say(core, f"turn {index} " + "word " * 800)  # ~1000 + ~700 tokens a turn
    await say(core, "last question")
    messages = fake_gateway.chat_requests()[-1]["messages"]
    contents = [m["content"] for m in messages]
    assert contents[-1] == "last question"
    assert messages[0]["role"] == "user"
    assert contents[0].startswith("turn ") and contents[1].startswith("answer")
    kept = [int(c.split()[1]) for c in contents if c.startswith("turn ")]
    assert kept == sorted(kept) and kept[-1] == 11 and kept[0] > 0
    assert sum(len(c) for c in contents) / 4 < 8192 - 2048


async def test_persona_is_sent_as_system_prompt(core: ChatCore,
                                                fake_gateway: FakeGateway) -> None:
    await core.run_command("persona", {"text": "You are a pirate."}, PRIVATE, ANN)
    await say(core, "ahoy")
    assert fake_gateway.chat_requests()[-1]["messages"][0] == {
        "role": "system", "content": "You are a pirate."}


async def test_messages_to_one_conversation_are_serialized(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    fake_gateway.script(Text("first answer", chunk_size=2, delay=0.02), Text("second answer"))
    first = await core.submit(GROUP, ANN, _msg("one"))
    await gateway_received(fake_gateway, 1)  # barrier: the first turn is under way
    second = await core.submit(GROUP, BOB, _msg("two"))
    results = await asyncio.gather(first.wait(), second.wait())
    assert [r.text for r in results if isinstance(r, TurnFinal)] == [
        "first answer", "second answer"]
    second_request = fake_gateway.chat_requests()[-1]["messages"]
    assert [m["content"] for m in second_request] == ["one", "first answer", "two"]


async def test_a_burst_is_merged_into_one_turn(make_core: CoreFactory,
                                               fake_gateway: FakeGateway) -> None:
    core = await make_core(burst_max_wait=5.0)  # burst_window 0: only hinted parts wait
    tickets = []
    for part, more in (("part one", True), ("part two", True), ("part three", False)):
        tickets.append(await core.submit(PRIVATE, ANN, _msg(part), expect_more=more))
        for _ in range(5):  # let the scheduler run: without the hint it would start now
            await asyncio.sleep(0)
    results = [await ticket.wait() for ticket in tickets]
    assert isinstance(results[0], TurnFinal)
    assert all(isinstance(r, TurnMerged) for r in results[1:])
    assert len(fake_gateway.chat_requests()) == 1
    assert fake_gateway.chat_requests()[0]["messages"][-1]["content"] == (
        "part one\npart two\npart three")


async def test_hundred_conversations_in_parallel(core: ChatCore,
                                                 fake_gateway: FakeGateway) -> None:
    from core.conversation.keys import Actor, ChatRef

    async def one(index: int) -> TurnFinal:
        chat = ChatRef("test", f"chat-{index}", is_private=True)
        actor = Actor("test", f"user-{index}")
        ticket = await core.submit(chat, actor, _msg(f"question {index}"))
        result = await ticket.wait()
        assert isinstance(result, TurnFinal)
        return result

    results = await asyncio.gather(*(one(i) for i in range(100)))
    assert [r.text for r in results] == [f"echo: question {i}" for i in range(100)]
    assert len(fake_gateway.chat_requests()) == 100


async def test_empty_and_huge_input_are_refused_without_a_request(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    empty = (await say(core, "   "))[-1]
    huge = (await say(core, "x" * 40000))[-1]
    assert isinstance(empty, TurnFailed) and empty.key == "error.empty_input"
    assert isinstance(huge, TurnFailed) and huge.key == "error.input_too_long"
    assert "40000" in core.failure_text(huge, "en")
    assert fake_gateway.chat_requests() == []
    assert await history(core) == []


def _msg(text: str):  # type: ignore[no-untyped-def]
    from core.conversation.inputs import UserMessage
    return UserMessage(text=text)


async def test_a_burst_is_limited_as_a_whole(make_core: CoreFactory,
                                             fake_gateway: FakeGateway) -> None:
    core = await make_core(max_input_chars=100)
    tickets = [await core.submit(PRIVATE, ANN, _msg("x" * 60), expect_more=more)
               for more in (True, False)]
    leader, follower = [await ticket.wait() for ticket in tickets]
    assert isinstance(leader, TurnFailed) and leader.key == "error.input_too_long"
    assert isinstance(follower, TurnMerged)
    assert fake_gateway.chat_requests() == [] and await history(core) == []


async def test_history_fills_the_window_minus_max_output_and_no_more(
        make_core: CoreFactory, fake_gateway: FakeGateway) -> None:
    from core.tokens import estimate_message_tokens

    core = await make_core(max_output_tokens=500)
    model = core.catalog.info("gpt-3.5-turbo")
    max_out = min(model.max_output, 500)
    for index in range(40):  # far more history than the window holds
        await say(core, f"turn {index} " + "word " * 200)
    await say(core, "last question")

    messages = fake_gateway.chat_requests()[-1]["messages"]
    *history, new = messages
    budget = model.context_window - max_out - estimate_message_tokens(new)
    used = sum(estimate_message_tokens(m) for m in history)
    one_more_turn = estimate_message_tokens(history[0]) + estimate_message_tokens(history[1])
    assert history[0]["content"].startswith("turn ") and new["content"] == "last question"
    assert used <= budget < used + one_more_turn  # full: the next older turn would not fit
