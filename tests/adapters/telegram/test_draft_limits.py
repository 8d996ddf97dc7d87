"""Strict (undocumented) draft limits: every answer arrives whole, no call inside a window.

The fake Bot API here refuses drafts beyond ``draft_per_second`` / ``draft_burst`` per
chat and escalates (invented rule) when a chat is called inside its retry_after window.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.adapters.telegram.conftest import FAKE_LIMITS, TelegramWorld
from tests.fakes.gateway_replies import Text
from tests.fakes.telegram_rules import FloodLimits

STRICT_DRAFTS = FloodLimits(chat_per_second=FAKE_LIMITS.chat_per_second,
                            chat_burst=FAKE_LIMITS.chat_burst,
                            group_per_minute=FAKE_LIMITS.group_per_minute,
                            group_burst=FAKE_LIMITS.group_burst,
                            draft_per_second=1.0, draft_burst=2)


def long_answer(index: int) -> str:
    """~5000 characters: two Telegram messages."""
    sentence = f"Chat {index} gets a long streamed answer with plenty of words in it. "
    return "\n\n".join(f"Part {n}. " + sentence * 5 for n in range(14))


def prompt_index(body: dict[str, Any]) -> int:
    return int(str(body["messages"][-1]["content"]).rsplit(" ", 1)[1])


@pytest.mark.parametrize("chats", [10, 50])
async def test_concurrent_long_answers_under_a_strict_draft_limit_all_arrive_whole(
        world: TelegramWorld, chats: int) -> None:
    tg = world.tg
    tg.limits = STRICT_DRAFTS
    world.gateway.responder = lambda body: Text(long_answer(prompt_index(body)),
                                                chunk_size=120, delay=0.05)
    users = [tg.private_chat(user_id=7000 + i) for i in range(chats)]
    for index, chat in enumerate(users):
        tg.user_sends(chat, chat.id, f"question {index}")

    def words(chat_id: int) -> list[str]:
        return " ".join(m.text for m in tg.bot_messages(chat_id)).split()

    expected = {chat.id: long_answer(index).split() for index, chat in enumerate(users)}
    await tg.wait_until(lambda: all(words(c) == w for c, w in expected.items()), timeout=90)
    assert all(len(tg.bot_messages(chat)) == 2 for chat in users)
    assert tg.flood_errors > 0  # the strict draft limit was really hit...
    assert tg.calls_inside_retry_window == {}  # ...and every window was honoured


async def test_the_final_waits_out_the_window_and_then_goes_out(world: TelegramWorld) -> None:
    tg = world.tg
    tg.limits = FloodLimits(draft_per_second=0.5, draft_burst=1)  # 2nd draft: wait 2 s
    ann = tg.private_chat(user_id=42)
    answer = " ".join(f"word{i}" for i in range(40))
    world.gateway.script(Text(answer, chunk_size=20, delay=0.05))

    tg.user_sends(ann, 42, "go")

    [final] = await world.wait_final(ann.id, "word39", timeout=10)
    assert final.text == answer
    [refused] = [c for c in tg.calls_of("sendMessageDraft") if c.status == 429]
    [send] = tg.calls_of("sendMessage")
    assert send.at >= refused.at + 2  # the window was waited out, the final not lost
    assert tg.calls_inside_retry_window == {}


async def test_an_unchanged_draft_is_refreshed_before_it_vanishes(world: TelegramWorld) -> None:
    tg = world.tg
    world.bot.handlers.timings = world.bot.handlers.timings.__class__(
        **{**_fields(world.bot.handlers.timings), "draft_refresh": 0.3})
    ann = tg.private_chat(user_id=43)
    # the first words, then a 1.5 s silence (a long tool call, a slow model), then the rest
    world.gateway.script(Text("Let me think. It is 42.", chunk_size=13, delay=1.5))

    tg.user_sends(ann, 43, "question")

    await world.wait_final(ann.id, "It is 42.")
    thinking = [d for d in tg.drafts(ann) if d.text == "Let me think."]
    assert len(thinking) >= 3  # first shown, then re-sent while nothing changed


def _fields(timings: Any) -> dict[str, Any]:
    return {name: getattr(timings, name) for name in timings.__dataclass_fields__}
