"""An answer that hit the output limit: text + note + Continue button; the button or the
word "continue" gets the rest as a normal turn (one gateway request each)."""

from __future__ import annotations

import pytest

from core.conversation.continuation import CONTINUE_PROMPT
from tests.adapters.telegram.conftest import TelegramWorld
from tests.fakes.gateway_replies import (
    DoneWithoutFinish,
    ErrorBody200,
    JsonCompletion,
    Reply,
    Text,
    length,
)
from tests.fakes.telegram_models import SentMessage

NOTE_EN = "✂️ The answer hit the length limit. Send “continue” (or press the button) for the rest."
NOTE_ZH = "✂️ 回答达到了长度上限。发送“继续”(或点击按钮)获取剩余部分。"


def buttons(message: SentMessage) -> list[tuple[str, str]]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def test_capped_answer_offers_continue_and_the_button_continues(
    world: TelegramWorld,
) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    world.gateway.script(length("Chapter one, where"), Text(" the story ends."))
    tg.user_sends(ann, 42, "tell a story")

    answer, note = await world.wait_for_messages(ann.id, 2)
    assert answer.text == "Chapter one, where"
    assert note.text == NOTE_EN
    [(label, data)] = buttons(note)
    assert label == "▶️ Continue" and data.startswith("a:")  # an action button

    tg.press_button(ann, 42, note.message_id, data)

    rest = await world.wait_final(ann.id, "the story ends.")
    assert [m.text for m in rest][-1] == "the story ends."
    _, second = world.gateway.chat_requests()
    assert [(m["role"], m["content"]) for m in second["messages"][-3:]] == [
        ("user", "tell a story"), ("assistant", "Chapter one, where"),
        ("user", CONTINUE_PROMPT)]
    assert buttons(tg.bot_messages(ann)[1]) == []  # pressed once: the button is gone


async def test_typing_continue_in_chinese_does_the_same(world: TelegramWorld) -> None:
    tg = world.tg
    li = tg.private_chat(43, language_code="zh-hans")
    world.gateway.script(length("第一部分"), Text("第二部分。"))
    tg.user_sends(li, 43, "写一篇文章")

    _, note = await world.wait_for_messages(li.id, 2)
    assert note.text == NOTE_ZH and [label for label, _ in buttons(note)] == ["▶️ 继续"]

    tg.user_sends(li, 43, "继续")

    await world.wait_final(li.id, "第二部分。")
    second = world.gateway.chat_requests()[-1]["messages"]
    assert [m["content"] for m in second[-3:]] == ["写一篇文章", "第一部分", CONTINUE_PROMPT]
    assert len(world.gateway.chat_requests()) == 2


async def test_someone_else_cannot_press_continue(world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(-100777)
    world.gateway.script(length("Half of it"))
    text, entities = tg.mention_text("long please")
    tg.user_sends(group, 7, text, entities=entities)
    _, note = await world.wait_for_messages(group.id, 2)

    [(_, data)] = buttons(note)
    tg.press_button(group, 8, note.message_id, data)

    refusal = await tg.wait_until(lambda: tg.answered_callbacks and tg.answered_callbacks[-1])
    assert refusal["text"] == "Only the person who asked can use this button."
    assert refusal.get("show_alert") is True
    assert len(world.gateway.chat_requests()) == 1
    assert buttons(tg.bot_messages(group)[1]) == [("▶️ Continue", data)]


async def test_quota_error_shows_the_gateway_reason(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    world.gateway.script(ErrorBody200("该令牌额度已用尽"))
    tg.user_sends(ann, 42, "hello")

    [failed] = await world.wait_final(ann.id, "The gateway said")
    assert failed.text == ("⚠️ The model gateway refused: its quota or balance is used up. "
                           "Please tell the bot owner. The gateway said: 该令牌额度已用尽")
    assert len(world.gateway.chat_requests()) == 1


@pytest.mark.parametrize("reply", [DoneWithoutFinish("All of it."),
                                   JsonCompletion(Text("All of it."))])
async def test_quirky_complete_answers_show_without_a_cut_off_notice(
    world: TelegramWorld, reply: Reply,
) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    world.gateway.script(reply)
    tg.user_sends(ann, 42, "everything")

    [answer] = await world.wait_final(ann.id, "All of it.")
    assert answer.text == "All of it."
    tg.user_sends(ann, 42, "again")  # barrier: the next turn sees the stored answer
    await world.wait_final(ann.id, "echo: again")
    assert [m.text for m in tg.bot_messages(ann)] == ["All of it.", "echo: again"]
    context = world.gateway.chat_requests()[-1]["messages"]
    assert [m["content"] for m in context[-3:]] == ["everything", "All of it.", "again"]
