"""Long answers, merged pastes, flood control, gateway failures, Stop, draft fallback."""

from __future__ import annotations

from typing import Any

import pytest
from telegramify_markdown import utf16_len

from tests.adapters.telegram.conftest import TelegramWorld
from tests.fakes.gateway_replies import ServerError, StreamError, Text
from tests.fakes.telegram_rules import ApiError, FloodLimits

CODE = "".join(f"    result_{i} = compute({i})  # step {i}\n" for i in range(40))
PARAGRAPH = "The quick brown fox jumps over the lazy dog near the riverbank. " * 12


def pre_text(message: Any) -> list[str]:
    """The texts covered by ``pre`` entities of a sent message (UTF-16 offsets)."""
    raw = message.text.encode("utf-16-le")
    return [raw[e["offset"] * 2:(e["offset"] + e["length"]) * 2].decode("utf-16-le")
            for e in message.entities if e["type"] == "pre"]


async def test_long_answer_is_split_and_a_code_block_stays_whole(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    answer = "\n\n".join([PARAGRAPH] * 5) + f"\n\n```python\n{CODE}```\n\n" + "Done. " * 10
    world.gateway.script(Text(answer, chunk_size=400))
    tg.user_sends(ann, 42, "write a lot")

    messages = await world.wait_final(ann.id, "Done. Done.")
    assert len(messages) == 2
    assert all(utf16_len(m.text) <= 4096 for m in messages)
    assert pre_text(messages[1]) == [CODE.rstrip("\n")]  # the block moved whole
    assert all(utf16_len(d.text) <= 4096 for d in tg.drafts(ann))


async def test_huge_code_block_is_closed_and_reopened(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    code = CODE * 6
    world.gateway.script(Text(f"Intro.\n\n```python\n{code}```\n\nOutro.", chunk_size=900))
    tg.user_sends(ann, 42, "write code")

    messages = await world.wait_final(ann.id, "Outro.")
    assert len(messages) >= 3 and all(utf16_len(m.text) <= 4096 for m in messages)
    pieces = [piece for m in messages for piece in pre_text(m)]
    assert len(pieces) >= 3
    assert "\n".join(pieces) == code.rstrip("\n")
    assert all(e.get("language") == "python"
               for m in messages for e in m.entities if e["type"] == "pre")


async def test_long_paste_in_parts_is_answered_once(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    world.gateway.script(Text("Got your long text."))
    parts = tg.user_pastes(ann, 42, ("lorem ipsum " * 900).strip())
    assert len(parts) == 3

    await world.wait_final(ann.id, "Got your long text.")
    # barrier: a probe is answered after every part of the paste was handled
    tg.user_sends(ann, 42, "probe")
    await world.wait_final(ann.id, "echo: probe")
    assert [m.text for m in tg.bot_messages(ann)] == ["Got your long text.", "echo: probe"]
    request, probe = world.gateway.chat_requests()
    assert request["messages"][-1]["content"].count("lorem") == 900
    assert probe["messages"][-1]["content"] == "probe"


async def test_flood_429_mid_stream_still_delivers_the_full_text(world: TelegramWorld) -> None:
    tg = world.tg
    tg.limits = FloodLimits(group_per_minute=30, group_burst=2)
    group = tg.group_chat(-100500)
    answer = " ".join(f"token{i}" for i in range(120))
    world.gateway.script(Text(answer, chunk_size=12, delay=0.02))
    text, entities = tg.mention_text("stream please")
    tg.user_sends(group, 7, text, entities=entities)

    [final] = await world.wait_final(group.id, "token119", timeout=15)
    assert final.text == answer
    assert tg.flood_errors >= 1
    assert world.bot.limiter.retry_after_count == tg.flood_errors


async def test_gateway_failure_is_explained_in_english_and_chinese(world: TelegramWorld) -> None:
    tg = world.tg
    ann, li = tg.private_chat(42), tg.private_chat(43, language_code="zh-hans")
    world.gateway.script(ServerError(500), ServerError(500))
    tg.user_sends(ann, 42, "hello")
    [english] = await world.wait_for_messages(ann.id, 1)
    tg.user_sends(li, 43, "你好")
    [chinese] = await world.wait_for_messages(li.id, 1)
    assert english.text.startswith("⚠️ ")
    assert english.text[3:] == world.core.t("error.unavailable", "en")
    assert chinese.text[3:] == world.core.t("error.unavailable", "zh")


async def test_failure_after_partial_text_keeps_the_partial_text(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    world.gateway.script(StreamError(text="partial answer here", after_chunks=3, chunk_size=4))
    tg.user_sends(ann, 42, "go")
    [message] = await world.wait_for_messages(ann.id, 1)
    assert message.text.startswith("partial answ")  # 3 chunks of 4 characters
    assert message.text.endswith(world.core.t("error.stream_cut", "en"))
    assert "⚠️" in message.text


async def test_stop_button_cancels_the_stream(world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(-100600)
    world.gateway.script(Text("slow " * 400, chunk_size=5, delay=0.02))
    tg.command(group, 7, "/ask tell me a long story")
    streaming = await world.first_with_buttons(group.id)
    tg.press_button(group, 7, streaming.message_id, world.stop_button(streaming))

    [final] = await world.wait_final(group.id, world.core.t("telegram.stopped", "en"))
    assert final.text.startswith("slow")
    assert final.text.count("slow") < 400
    assert any(a["callback_query_id"] for a in tg.answered_callbacks)


async def test_stopping_a_draft_cancels_the_turn(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    world.gateway.script(Text("draft " * 400, chunk_size=6, delay=0.02))
    tg.user_sends(ann, 42, "long please")
    draft = await tg.wait_until(lambda: tg.drafts(ann) and tg.drafts(ann)[0])
    tg.push_update({"stopped_message_generation": {
        "chat": ann.to_dict(), "draft_id": draft.draft_id}})
    [final] = await world.wait_final(ann.id, world.core.t("telegram.stopped", "en"))
    assert final.text.count("draft") < 400


async def test_failing_drafts_fall_back_to_send_and_edit(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)

    async def refuse(params: dict[str, Any], files: dict[str, Any]) -> Any:
        raise ApiError(400, "Bad Request: method is not available")

    tg._handlers["sendmessagedraft"] = refuse
    world.gateway.script(Text("edited " * 40, chunk_size=7, delay=0.02))
    tg.user_sends(ann, 42, "hi")
    [final] = await world.wait_final(ann.id, "edited edited")
    assert final.text == ("edited " * 40).strip()
    assert final.edits >= 1


async def test_cancel_stops_the_running_answer_and_answers_what_was_sent_meanwhile(
        world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    world.gateway.script(Text("slow " * 400, chunk_size=5, delay=0.02))  # ~8 s
    tg.user_sends(ann, 42, "A: tell me a long story")
    await tg.wait_until(lambda: world.gateway.chat_requests())
    tg.user_sends(ann, 42, "B: and what is 2+2?")
    await tg.wait_until(lambda: sum(
        len(lane.pending) for lane in world.core.scheduler._lanes.values()) == 1)
    tg.command(ann, 42, "/cancel")

    messages = await world.wait_final(ann.id, "echo: B: and what is 2+2?")
    stopped = world.core.t("telegram.stopped", "en")
    assert any(m.text.endswith(stopped) and m.text.count("slow") < 400 for m in messages)
    assert [r["messages"][-1]["content"] for r in world.gateway.chat_requests()] == [
        "A: tell me a long story", "B: and what is 2+2?"]


async def test_a_second_cancel_drops_the_messages_sent_meanwhile(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    world.gateway.script(Text("slow " * 400, chunk_size=5, delay=0.02))
    tg.user_sends(ann, 42, "A: tell me a long story")
    await tg.wait_until(lambda: world.gateway.chat_requests())
    tg.user_sends(ann, 42, "B: never mind")
    await tg.wait_until(lambda: sum(
        len(lane.pending) for lane in world.core.scheduler._lanes.values()) == 1)
    tg.command(ann, 42, "/cancel")
    tg.command(ann, 42, "/cancel")
    await tg.wait_until(lambda: world.core.scheduler.active_conversations == 0)
    tg.user_sends(ann, 42, "C: probe")  # barrier: answered after everything before it
    await world.wait_final(ann.id, "echo: C: probe")
    assert [r["messages"][-1]["content"] for r in world.gateway.chat_requests()] == [
        "A: tell me a long story", "C: probe"]


def _order_of(calls: list[Any], *texts: str) -> list[int]:
    """Index of the first successful API call whose text ends with each of ``texts``."""
    def first(text: str) -> int:
        return next(i for i, call in enumerate(calls) if call.status == 200 and str(
            call.params.get("text", "")).endswith(text))
    return [first(text) for text in texts]


@pytest.mark.parametrize("where", ["private", "group"])
async def test_cancel_confirms_after_the_answer_shows_it_stopped(world: TelegramWorld,
                                                                 where: str) -> None:
    """/cancel while an answer streams: first the answer's final "⏹ Stopped." text,
    then "Stopped the current answer." (both awaited: no sleeps)."""
    tg = world.tg
    chat = tg.private_chat(42) if where == "private" else tg.group_chat(-100700)
    world.gateway.script(Text("slow " * 400, chunk_size=5, delay=0.02))
    tg.command(chat, 42, "/ask tell me a long story")
    await tg.wait_until(lambda: world.gateway.chat_requests())
    await tg.wait_until(lambda: tg.drafts(chat) or tg.bot_messages(chat.id))
    tg.command(chat, 42, "/cancel")

    stopped, done = world.core.t("telegram.stopped", "en"), world.core.t("cmd.cancel_done", "en")
    await world.wait_final(chat.id, done)
    await world.wait_final(chat.id, stopped)
    answer_at, confirmed_at = _order_of(tg.calls, stopped, done)
    assert answer_at < confirmed_at
