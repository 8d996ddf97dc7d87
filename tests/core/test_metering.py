"""Metering through the core: every gateway call passes the hooks and leaves one ledger row.

Conversations against the fake gateway: "Ann asks X → the ledger holds these rows".
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import sqlalchemy as sa

from core.app import ChatCore
from core.conversation.inputs import UserMessage
from core.errors import UserInputError
from core.events import TextDelta, TurnCancelled, TurnFailed, TurnFinal, TurnStarted, Usage
from core.metering import CallInfo, CallResult
from core.storage.schema import usage_ledger
from core.tokens import estimate_message_tokens, estimate_text_tokens
from core.tools import Tool
from tests.core.conftest import ANN, PRIVATE, CoreFactory, say
from tests.core.conversation.test_turns import history
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_replies import CutStream, ServerError, Text, ToolCalls

GPT35_PROMPT, GPT35_COMPLETION = 0.0005, 0.0015  # catalog.json: USD per 1K tokens


async def ledger(core: ChatCore) -> list[dict[str, Any]]:
    """Every ledger row, oldest first."""
    query = sa.select(usage_ledger).order_by(usage_ledger.c.id)
    async with core.store.transaction() as connection:
        return [dict(row._mapping) for row in (await connection.execute(query)).all()]


def sent_prompt_tokens(body: dict[str, Any]) -> int:
    """The local estimate of a recorded request's messages (what metering uses)."""
    return sum(estimate_message_tokens(message) for message in body["messages"])


class Recorder:
    """A hook that records what it sees; refuses with ``refusal`` when set."""

    def __init__(self, refusal: Exception | None = None) -> None:
        self.refusal = refusal
        self.seen: list[tuple[str, CallInfo, CallResult | None]] = []

    async def before(self, call: CallInfo) -> None:
        self.seen.append(("before", call, None))
        if self.refusal is not None:
            raise self.refusal

    async def after(self, call: CallInfo, result: CallResult) -> None:
        self.seen.append(("after", call, result))


def weather_tool(core: ChatCore) -> None:
    async def weather(args: dict[str, Any]) -> str:
        return json.dumps({"city": args["city"], "sky": "sunny"})

    core.tools.register(Tool("weather", "Weather in a city",
                             {"type": "object", "properties": {"city": {"type": "string"}}},
                             weather))


async def test_a_completed_turn_leaves_one_ok_row_with_gateway_usage_and_cost(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    fake_gateway.script(Text("hello there", usage=Usage(120, 30)))
    events = await say(core, "hi")
    assert isinstance(events[-1], TurnFinal) and events[-1].usage == Usage(120, 30)
    started = events[0]
    assert isinstance(started, TurnStarted)
    [row] = await ledger(core)
    assert {k: row[k] for k in ("turn_id", "platform", "chat_id", "user_id", "model", "kind",
                                "outcome", "prompt_tokens", "completion_tokens", "estimated",
                                "units", "unit")} == {
        "turn_id": started.turn_id, "platform": "test", "chat_id": "100", "user_id": "1",
        "model": "gpt-3.5-turbo", "kind": "chat", "outcome": "ok", "prompt_tokens": 120,
        "completion_tokens": 30, "estimated": False, "units": None, "unit": None}
    assert row["cost"] == pytest.approx(0.12 * GPT35_PROMPT + 0.03 * GPT35_COMPLETION)
    assert await core.store.usage_totals(platform="test", kind="chat", outcome="ok") == Usage(
        120, 30)


async def test_a_tool_calling_turn_leaves_one_row_per_round(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    weather_tool(core)
    fake_gateway.script(ToolCalls([("weather", '{"city": "Paris"}')], usage=Usage(50, 10)),
                        Text("It is sunny in Paris.", usage=Usage(80, 7)))
    writer = core.store._conversations.writer
    transactions = writer.batches
    events = await say(core, "weather in Paris?")
    assert writer.batches - transactions == 1  # messages and both rows: one transaction
    final = events[-1]
    assert isinstance(final, TurnFinal) and final.usage == Usage(130, 17)
    rows = await ledger(core)
    assert [(r["outcome"], r["prompt_tokens"], r["completion_tokens"]) for r in rows] == [
        ("ok", 50, 10), ("ok", 80, 7)]
    assert {r["turn_id"] for r in rows} == {final.turn_id}
    assert len(fake_gateway.chat_requests()) == 2


async def test_a_turn_cancelled_mid_stream_is_recorded_with_an_estimate(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    fake_gateway.script(Text("a very long answer " * 50, chunk_size=5, delay=0.01))
    ticket = await core.submit(PRIVATE, ANN, UserMessage(text="tell me a story"))
    deltas = 0
    events = []
    async for event in ticket:
        events.append(event)
        if isinstance(event, TextDelta):
            deltas += 1
            if deltas == 3:
                assert await core.cancel(PRIVATE, ANN)
    cancelled = events[-1]
    assert isinstance(cancelled, TurnCancelled) and cancelled.partial_text
    assert await history(core) == []  # no messages stored, but the call is accounted
    [row] = await ledger(core)
    [sent] = fake_gateway.chat_requests()
    assert (row["kind"], row["outcome"], row["estimated"]) == ("chat", "cancelled", True)
    assert row["prompt_tokens"] == sent_prompt_tokens(sent) > 0
    assert row["completion_tokens"] == estimate_text_tokens(cancelled.partial_text) > 0
    assert row["cost"] == pytest.approx(row["prompt_tokens"] / 1000 * GPT35_PROMPT
                                        + row["completion_tokens"] / 1000 * GPT35_COMPLETION)


@pytest.mark.parametrize(("replies", "streamed"), [
    pytest.param([ServerError(502)] * 3, "", id="5xx"),
    pytest.param([CutStream("partial answer that gets cut", after_chunks=2, chunk_size=4)],
                 "partial ", id="cut-stream"),
])
async def test_a_failed_call_is_recorded_as_failed(
        core: ChatCore, fake_gateway: FakeGateway, replies: list[Any], streamed: str) -> None:
    fake_gateway.script(*replies)
    failed = (await say(core, "hello?"))[-1]
    assert isinstance(failed, TurnFailed)
    assert await history(core) == []
    [row] = await ledger(core)  # retries inside the client are one call
    sent = fake_gateway.chat_requests()[0]
    assert (row["outcome"], row["estimated"]) == ("failed", True)
    assert row["prompt_tokens"] == sent_prompt_tokens(sent)
    assert row["completion_tokens"] == estimate_text_tokens(streamed)
    assert await core.store.usage_totals(platform="test", outcome="ok") == Usage()


async def test_missing_gateway_usage_is_estimated_on_an_ok_row(
        make_core: CoreFactory, fake_gateway: FakeGateway) -> None:
    core = await make_core(gateway_stream_usage=False)  # the gateway sends no usage
    final = (await say(core, "count me"))[-1]
    assert isinstance(final, TurnFinal) and final.usage.estimated
    [row] = await ledger(core)
    assert (row["outcome"], row["estimated"]) == ("ok", True)
    assert row["prompt_tokens"] == sent_prompt_tokens(fake_gateway.chat_requests()[0])
    assert row["completion_tokens"] == estimate_text_tokens("echo: count me")


async def test_estimates_cover_history_persona_and_tool_rounds(
        make_core: CoreFactory, fake_gateway: FakeGateway) -> None:
    """Without gateway usage, each call's prompt estimate is that of the messages it
    sent: persona, the stored history, the question, and the earlier tool round."""
    core = await make_core(gateway_stream_usage=False)
    weather_tool(core)
    service = core.settings_service
    await service.set(service.scope_key("user", PRIVATE, ANN), "persona",
                      "You are a terse weather bot. 你好")
    await say(core, "first question")
    fake_gateway.script(ToolCalls([("weather", '{"city": "Oslo"}')]), Text("Snow in Oslo."))
    final = (await say(core, "and the weather in Oslo?"))[-1]
    assert isinstance(final, TurnFinal)
    rows = await ledger(core)
    sent = fake_gateway.chat_requests()
    assert len(rows) == len(sent) == 3 and len(sent[2]["messages"]) == 6
    assert [row["prompt_tokens"] for row in rows] == [sent_prompt_tokens(s) for s in sent]


async def test_a_before_hook_refusal_fails_the_turn_before_any_request(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    quota = Recorder(UserInputError("error.input_too_long", length=9000, limit=100))
    core.metering.add(quota)
    events = await say(core, "expensive question")
    failed = events[-1]
    assert isinstance(failed, TurnFailed) and failed.key == "error.input_too_long"
    english, chinese = core.failure_text(failed, "en"), core.failure_text(failed, "zh")
    assert "9000" in english and "9000" in chinese and english != chinese
    assert fake_gateway.chat_requests() == []
    assert await history(core) == [] and await ledger(core) == []
    assert [stage for stage, _, _ in quota.seen] == ["before"]  # no `after` for a refusal


async def test_hooks_see_each_call_of_the_turn(core: ChatCore, fake_gateway: FakeGateway) -> None:
    weather_tool(core)
    recorder = Recorder()
    core.metering.add(recorder)
    fake_gateway.script(ToolCalls([("weather", '{"city": "Oslo"}')], usage=Usage(50, 10)),
                        Text("Sunny in Oslo.", usage=Usage(80, 7)))
    events = await say(core, "weather in Oslo?")
    started = events[0]
    assert isinstance(started, TurnStarted) and isinstance(events[-1], TurnFinal)
    assert [stage for stage, _, _ in recorder.seen] == ["before", "after", "before", "after"]
    first, second = fake_gateway.chat_requests()
    calls = [info for stage, info, _ in recorder.seen if stage == "before"]
    for info, body in zip(calls, (first, second), strict=True):
        assert (info.kind, info.model, info.chat, info.actor, info.turn_id, info.unit) == (
            "chat", "gpt-3.5-turbo", PRIVATE, ANN, started.turn_id, "tokens")
        assert info.prompt_tokens == sent_prompt_tokens(body)
        assert info.estimate == info.prompt_tokens + body["max_tokens"]
    assert calls[0].call_id != calls[1].call_id
    assert calls[1].prompt_tokens > calls[0].prompt_tokens  # the tool result was added
    results = [(info, result) for stage, info, result in recorder.seen if stage == "after"]
    assert [info for info, _ in results] == calls
    assert [(r.outcome, r.usage) for _, r in results if r] == [("ok", Usage(50, 10)),
                                                              ("ok", Usage(80, 7))]


async def test_a_refused_second_round_keeps_the_first_rounds_row(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    weather_tool(core)

    class SecondCallRefused(Recorder):
        async def before(self, call: CallInfo) -> None:
            self.refusal = UserInputError("error.input_too_long", length=1, limit=0) if (
                self.seen) else None
            await super().before(call)

    core.metering.add(SecondCallRefused())
    fake_gateway.script(ToolCalls([("weather", '{"city": "Rome"}')], usage=Usage(50, 10)),
                        Text("never asked"))
    failed = (await say(core, "weather in Rome?"))[-1]
    assert isinstance(failed, TurnFailed) and failed.key == "error.input_too_long"
    assert len(fake_gateway.chat_requests()) == 1 and fake_gateway.pending() == 1
    assert [(r["outcome"], r["prompt_tokens"]) for r in await ledger(core)] == [("ok", 50)]
    assert await history(core) == []


async def test_a_second_stop_during_the_ledger_write_still_records_the_call(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    writing, release = asyncio.Event(), asyncio.Event()
    record_usage = core.store.record_usage

    async def slow_record(*args: Any) -> None:
        writing.set()
        await release.wait()
        await record_usage(*args)

    core.store.record_usage = slow_record  # type: ignore[method-assign,assignment]
    fake_gateway.script(Text("a very long answer " * 50, chunk_size=5, delay=0.01))
    ticket = await core.submit(PRIVATE, ANN, UserMessage(text="tell me a story"))
    async for event in ticket:
        if isinstance(event, TextDelta):
            break
    assert await core.cancel(PRIVATE, ANN)
    await writing.wait()
    core.scheduler.cancel_ticket(ticket)  # Stop pressed again while the row is written
    release.set()
    assert isinstance(await asyncio.wait_for(ticket.wait(), 3), TurnCancelled)
    assert [row["outcome"] for row in await ledger(core)] == ["cancelled"]


async def test_a_turn_whose_save_fails_still_records_its_call(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    """The database refuses the turn's messages → the user gets the internal error, no
    half turn is stored, and the call it made is still in the ledger."""
    async def refuse(*args: Any) -> list[int]:
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

    core.store._conversations.save_turn = refuse  # type: ignore[method-assign,assignment]
    fake_gateway.script(Text("an answer that cannot be stored", usage=Usage(40, 6)))
    failed = (await say(core, "hello"))[-1]
    assert isinstance(failed, TurnFailed) and failed.key == "error.internal"
    assert await history(core) == []
    assert [(r["outcome"], r["prompt_tokens"], r["completion_tokens"])
            for r in await ledger(core)] == [("ok", 40, 6)]
