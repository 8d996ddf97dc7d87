"""Gateway quirks through the whole core: one request, a stored turn (or a clear error),
and the "continue" follow-up of a length-capped answer."""

from __future__ import annotations

from typing import Any

import pytest

from core.app import ChatCore
from core.conversation.continuation import CONTINUE_PROMPT
from core.events import TextDelta, TurnFailed, TurnFinal
from core.tools import Tool
from tests.core.conftest import ANN, PRIVATE, say
from tests.core.conversation.test_turns import history
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_replies import (
    DoneWithoutFinish,
    ErrorBody200,
    JsonCompletion,
    SSEErrorLine,
    Text,
    ToolCalls,
    length,
)

QUOTA = "该令牌额度已用尽 TokenStatusExhausted[sk-abc***xyz]"


@pytest.mark.parametrize("reply", [
    DoneWithoutFinish("complete, just unmarked"),
    JsonCompletion(Text("complete, just unmarked")),
], ids=["done-without-finish", "json-completion"])
async def test_quirky_complete_answers_are_shown_and_stored(
    core: ChatCore, fake_gateway: FakeGateway, reply: DoneWithoutFinish | JsonCompletion,
) -> None:
    fake_gateway.script(reply)

    events = await say(core, "tell me")

    final = events[-1]
    assert isinstance(final, TurnFinal) and final.text == "complete, just unmarked"
    assert not final.truncated
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == final.text
    assert len(fake_gateway.chat_requests()) == 1
    assert await history(core) == [("user", "tell me"),
                                   ("assistant", "complete, just unmarked")]
    await say(core, "and then?")  # the next turn's context holds the stored answer
    context = fake_gateway.chat_requests()[-1]["messages"]
    assert [m["content"] for m in context[-3:]] == ["tell me", "complete, just unmarked",
                                                    "and then?"]


@pytest.mark.parametrize("reply", [
    ErrorBody200(QUOTA), SSEErrorLine(QUOTA), SSEErrorLine(QUOTA, after_chunks=2),
], ids=["json-body", "sse-line", "sse-line-after-text"])
async def test_quota_error_with_200_says_why_in_both_languages(
    core: ChatCore, fake_gateway: FakeGateway, reply: ErrorBody200 | SSEErrorLine,
) -> None:
    fake_gateway.script(reply)

    failed = (await say(core, "hello"))[-1]

    assert isinstance(failed, TurnFailed) and failed.key == "error.quota_exceeded"
    assert len(fake_gateway.chat_requests()) == 1
    assert await history(core) == []
    assert core.failure_text(failed, "en") == (
        "The model gateway refused: its quota or balance is used up. Please tell the bot "
        f"owner. The gateway said: {QUOTA}")
    assert core.failure_text(failed, "zh") == (
        f"模型网关拒绝了请求:额度或余额已用尽,请联系机器人管理员。网关提示:{QUOTA}")
    assert "cut off" not in core.failure_text(failed, "en")


async def test_length_capped_answer_is_stored_and_flagged(
    core: ChatCore, fake_gateway: FakeGateway,
) -> None:
    fake_gateway.script(length("Part one of a long"))

    final = (await say(core, "write an essay"))[-1]

    assert isinstance(final, TurnFinal) and final.truncated
    assert final.text == "Part one of a long"
    assert await history(core) == [("user", "write an essay"),
                                   ("assistant", "Part one of a long")]


@pytest.mark.parametrize("word", ["continue", "继续", "Go on", "  CONTINUE. ", "go on!"])
async def test_typing_continue_continues_the_capped_answer(
    core: ChatCore, fake_gateway: FakeGateway, word: str,
) -> None:
    fake_gateway.script(length("Part one of a long"), Text(" essay, the end."))
    await say(core, "write an essay")

    final = (await say(core, word))[-1]

    assert isinstance(final, TurnFinal) and final.text == " essay, the end."
    assert not final.truncated
    request = fake_gateway.chat_requests()[-1]["messages"]
    assert [(m["role"], m["content"]) for m in request[-3:]] == [
        ("user", "write an essay"), ("assistant", "Part one of a long"),
        ("user", CONTINUE_PROMPT)]
    assert await history(core) == [
        ("user", "write an essay"), ("assistant", "Part one of a long"),
        ("user", CONTINUE_PROMPT), ("assistant", " essay, the end.")]


async def test_continue_turn_entry_point_and_words_inside_sentences(
    core: ChatCore, fake_gateway: FakeGateway,
) -> None:
    fake_gateway.script(length("First half"), Text("second half"))
    await say(core, "go")

    ticket = await core.continue_turn(PRIVATE, ANN)
    final = [event async for event in ticket][-1]
    assert isinstance(final, TurnFinal) and final.text == "second half"
    assert fake_gateway.chat_requests()[-1]["messages"][-1]["content"] == CONTINUE_PROMPT

    await say(core, "please continue the story")  # not alone: an ordinary message
    assert fake_gateway.chat_requests()[-1]["messages"][-1]["content"] == (
        "please continue the story")


async def test_lone_surrogates_from_the_user_or_the_gateway_become_replacement_characters(
    core: ChatCore, fake_gateway: FakeGateway,
) -> None:
    """A JSON "\\ud800" escape (a crafted platform update, a gateway delta) decodes to a
    lone surrogate, which UTF-8 cannot encode: the turn used to fail at the save, after
    the answer was shown. Now it is U+FFFD everywhere."""
    fake_gateway.script(Text("bad \ud800 answer", chunk_size=4))

    final = (await say(core, "odd \udc00 question"))[-1]

    assert isinstance(final, TurnFinal) and final.text == "bad \ufffd answer"
    assert fake_gateway.chat_requests()[-1]["messages"][-1]["content"] == "odd \ufffd question"
    assert await history(core) == [("user", "odd \ufffd question"),
                                   ("assistant", "bad \ufffd answer")]


async def test_a_persona_or_message_with_unstorable_characters_still_answers(
    core: ChatCore, fake_gateway: FakeGateway,
) -> None:
    """A fresh tester's case: "/persona be \\udfff odd" made every later turn of the chat
    fail ("Something went wrong") until the persona was reset. NUL (which PostgreSQL
    text cannot hold) is the same kind."""
    reply = await core.run_command_text("/persona be \udfff odd", PRIVATE, ANN)
    assert reply is not None

    final = (await say(core, "nul\x00here"))[-1]

    assert isinstance(final, TurnFinal) and final.text == "echo: nul\ufffdhere"
    system, user = fake_gateway.chat_requests()[-1]["messages"]
    assert system == {"role": "system", "content": "be \ufffd odd"}
    assert user["content"] == "nul\ufffdhere"


@pytest.mark.parametrize("output", ["res\x00ult", "lone \ud800 half of an emoji"])
async def test_a_tool_whose_output_cannot_be_stored_as_is_still_completes_the_turn(
    core: ChatCore, fake_gateway: FakeGateway, output: str,
) -> None:
    """A fresh tester's case: a tool returning a NUL or a lone surrogate (a truncated
    emoji decoded from JSON) made the turn fail after the user saw the answer. The
    tool's text, its call's arguments and the answer are stored with U+FFFD."""
    async def lookup(arguments: dict[str, Any]) -> str:
        return output

    core.tools.register(Tool("lookup", "Look up.", {"type": "object", "properties": {}},
                             lookup))
    fake_gateway.script(ToolCalls([("lookup", '{"q": "a\\u0000b"}')]), Text("found it"))

    final = (await say(core, "look it up"))[-1]

    assert isinstance(final, TurnFinal) and final.text == "found it"
    tool_result = fake_gateway.chat_requests()[-1]["messages"][-1]
    assert tool_result["role"] == "tool" and tool_result["content"] == output
    assert ("tool", output.replace("\x00", "\ufffd").replace("\ud800", "\ufffd")) in (
        await history(core))
