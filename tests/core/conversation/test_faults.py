"""Gateway faults through the core: a typed, localized error and untouched history."""

from __future__ import annotations

import asyncio

import pytest

from core.app import ChatCore
from core.events import TextDelta, TurnCancelled, TurnFailed, TurnFinal
from tests.core.conftest import ANN, PRIVATE, CoreFactory, gateway_received, say
from tests.core.conversation.test_turns import history
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_replies import (
    CutStream,
    Hang,
    MalformedChunk,
    RateLimit,
    ServerError,
    Text,
    context_too_long,
    model_not_found,
    unauthorized,
)

FAULTS = [
    pytest.param([RateLimit(0.05)] * 3, "error.rate_limited", id="429"),
    pytest.param([ServerError(502)] * 3, "error.unavailable", id="5xx"),
    pytest.param([CutStream("partial answer that gets cut", after_chunks=2)], "error.stream_cut",
                 id="cut-stream"),
    pytest.param([MalformedChunk(after_chunks=1)], "error.stream_cut", id="malformed-chunk"),
    pytest.param([unauthorized()], "error.auth_failed", id="401"),
    pytest.param([context_too_long()], "error.context_too_long", id="context-too-long"),
    pytest.param([model_not_found("gpt-3.5-turbo")], "error.unknown_model", id="unknown-model"),
]


@pytest.mark.parametrize(("replies", "key"), FAULTS)
async def test_each_gateway_fault_fails_the_turn_and_keeps_history(
        core: ChatCore, fake_gateway: FakeGateway, replies: list[object], key: str) -> None:
    await say(core, "first question")
    before = await history(core)
    fake_gateway.script(*replies)  # type: ignore[arg-type]
    events = await say(core, "second question")
    failed = events[-1]
    assert isinstance(failed, TurnFailed) and failed.key == key
    assert await history(core) == before
    english, chinese = core.failure_text(failed, "en"), core.failure_text(failed, "zh")
    assert english and chinese and english != chinese and "{" not in english + chinese
    after = await say(core, "third question")
    assert isinstance(after[-1], TurnFinal)
    assert await history(core) == [*before, ("user", "third question"),
                                   ("assistant", "echo: third question")]


async def test_a_timeout_is_a_typed_error(make_core: CoreFactory,
                                          fake_gateway: FakeGateway) -> None:
    core = await make_core(request_timeout=0.3, gateway_max_retries=0)
    fake_gateway.script(Hang(2.0))
    failed = (await say(core, "are you there?"))[-1]
    assert isinstance(failed, TurnFailed) and failed.key == "error.timeout"
    assert await history(core) == []


async def test_a_rate_limit_is_retried_then_answered(core: ChatCore,
                                                     fake_gateway: FakeGateway) -> None:
    fake_gateway.script(RateLimit(0.05), Text("worth the wait"))
    final = (await say(core, "hi"))[-1]
    assert isinstance(final, TurnFinal) and final.text == "worth the wait"
    assert len(fake_gateway.chat_requests()) == 2


async def test_rate_limit_text_names_the_wait(core: ChatCore,
                                              fake_gateway: FakeGateway) -> None:
    fake_gateway.script(*[RateLimit(3)] * 3)
    core.gateway._backoff = type(core.gateway._backoff)(base=0.01, retry_after_cap=0.01)
    failed = (await say(core, "hi"))[-1]
    assert isinstance(failed, TurnFailed)
    assert "3 s" in core.failure_text(failed, "en") and "3 秒" in core.failure_text(failed, "zh")


async def test_cancel_stops_the_stream_and_stores_nothing(core: ChatCore,
                                                          fake_gateway: FakeGateway) -> None:
    fake_gateway.script(Text("a very long answer " * 50, chunk_size=5, delay=0.01))
    from core.conversation.inputs import UserMessage

    ticket = await core.submit(PRIVATE, ANN, UserMessage(text="tell me a story"))
    seen = []
    async for event in ticket:
        seen.append(event)
        if isinstance(event, TextDelta) and len(seen) == 4:
            assert await core.cancel(PRIVATE, ANN)
    assert isinstance(seen[-1], TurnCancelled) and seen[-1].partial_text
    assert await history(core) == []
    assert not await core.cancel(PRIVATE, ANN)


async def test_cancel_stops_the_running_answer_and_queued_messages_are_still_answered(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    from core.conversation.inputs import UserMessage

    fake_gateway.script(Text("slow " * 40, chunk_size=5, delay=0.02))
    running = await core.submit(PRIVATE, ANN, UserMessage(text="one"))
    await gateway_received(fake_gateway, 1)
    queued = await core.submit(PRIVATE, ANN, UserMessage(text="two"))
    reply = await core.run_command("cancel", {}, PRIVATE, ANN)
    assert "Stopped" in reply.text
    assert isinstance(await running.wait(), TurnCancelled)
    answered = await queued.wait()
    assert isinstance(answered, TurnFinal) and answered.text == "echo: two"
    assert await history(core) == [("user", "two"), ("assistant", "echo: two")]


async def test_a_second_cancel_drops_the_queued_messages_too(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    from core.conversation.inputs import UserMessage

    fake_gateway.script(Text("slow " * 40, chunk_size=5, delay=0.02))
    running = await core.submit(PRIVATE, ANN, UserMessage(text="one"))
    await gateway_received(fake_gateway, 1)
    queued = [await core.submit(PRIVATE, ANN, UserMessage(text=text)) for text in ("2", "3")]
    assert await core.cancel(PRIVATE, ANN)
    assert await core.cancel(PRIVATE, ANN)  # nothing of mine runs any more: the queue goes
    assert isinstance(await running.wait(), TurnCancelled)
    assert [type(await ticket.wait()) for ticket in queued] == [TurnCancelled] * 2
    assert not await core.cancel(PRIVATE, ANN)
    assert await history(core) == []


async def test_new_drops_the_running_and_the_queued_turns(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    from core.conversation.inputs import UserMessage

    fake_gateway.script(Text("slow " * 40, chunk_size=5, delay=0.02))
    running = await core.submit(PRIVATE, ANN, UserMessage(text="one"))
    await gateway_received(fake_gateway, 1)
    queued = await core.submit(PRIVATE, ANN, UserMessage(text="two"))
    await core.run_command("new", {}, PRIVATE, ANN)
    assert isinstance(await running.wait(), TurnCancelled)
    assert isinstance(await queued.wait(), TurnCancelled)
    assert len(fake_gateway.chat_requests()) == 1


async def test_cancels_during_the_save_still_end_the_turn_consistently(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    from core.conversation.inputs import UserMessage

    saving, committed = asyncio.Event(), asyncio.Event()
    save_turn = core.store.save_turn

    async def slow_save(*args, **kwargs):  # type: ignore[no-untyped-def]
        saving.set()
        await committed.wait()  # a slow disk: the commit ends when the test says so
        return await save_turn(*args, **kwargs)

    core.store.save_turn = slow_save  # type: ignore[method-assign]
    ticket = await core.submit(PRIVATE, ANN, UserMessage(text="keep this"))
    await saving.wait()
    assert await core.cancel(PRIVATE, ANN)
    await asyncio.sleep(0)  # let the first Stop reach the turn
    await core.cancel(PRIVATE, ANN)  # Stop pressed twice, both while the save runs
    committed.set()
    result = await asyncio.wait_for(ticket.wait(), 3)
    assert isinstance(result, TurnFinal) and result.text == "echo: keep this"
    assert await history(core) == [("user", "keep this"), ("assistant", "echo: keep this")]
    await say(core, "and then?")
    assert [m["content"] for m in fake_gateway.chat_requests()[-1]["messages"]] == [
        "keep this", "echo: keep this", "and then?"]


async def test_a_rejected_request_says_why(core: ChatCore, fake_gateway: FakeGateway) -> None:
    from tests.fakes.gateway_replies import HttpError, error_body

    fake_gateway.script(HttpError(400, error_body("temperature must be at most 2")))
    failed = (await say(core, "hi"))[-1]
    assert isinstance(failed, TurnFailed) and failed.key == "error.bad_request"
    assert core.failure_text(failed, "en").endswith("temperature must be at most 2")
