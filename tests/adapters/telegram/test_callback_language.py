"""Button answers (Stop, model picker) speak the presser's language, not the raw client code."""

from __future__ import annotations

from tests.adapters.telegram.conftest import TelegramWorld
from tests.fakes.gateway_replies import Text


async def test_chinese_user_pressing_stop_on_someone_elses_answer_is_refused_in_chinese(
        world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(-100610)
    tg.user(8, "Li", language_code="zh-hans")
    world.gateway.script(Text("slow " * 300, chunk_size=5, delay=0.02))
    tg.command(group, 7, "/ask tell me a long story")
    streaming = await world.first_with_buttons(group.id)

    tg.press_button(group, 8, streaming.message_id, world.stop_button(streaming))

    refusal = await tg.wait_until(lambda: tg.answered_callbacks and tg.answered_callbacks[-1])
    assert refusal["text"] == world.core.t("telegram.cancel_not_yours", "zh")
    assert refusal["text"] == "只有提问的人(或群管理员)可以停止这个回答。"
    assert refusal.get("show_alert") is True
    await world.wait_final(group.id, "slow slow", timeout=15)  # the answer was not stopped
    assert world.core.t("telegram.stopped", "en") not in tg.bot_messages(group)[-1].text


async def test_stale_picker_button_is_explained_in_chinese(world: TelegramWorld) -> None:
    tg = world.tg
    li = tg.private_chat(43, language_code="zh-hans")
    tg.command(li, 43, "/model")
    picker = await world.first_with_buttons(li.id)

    tg.press_button(li, 43, picker.message_id, "mp:v:0000000000:0", check=False)  # old

    answer = await tg.wait_until(lambda: tg.answered_callbacks and tg.answered_callbacks[-1])
    assert answer["text"] == "这个按钮已失效。" == world.core.t("action.unknown", "zh")
    assert answer.get("show_alert") is True
