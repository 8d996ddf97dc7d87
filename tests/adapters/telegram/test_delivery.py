"""Final texts survive Bot API hiccups; a presenter that dies does not leave its turn running."""

from __future__ import annotations

from typing import Any

from tests.adapters.telegram.conftest import FAST_TIMINGS, TelegramWorld
from tests.fakes.gateway_replies import Text
from tests.fakes.telegram_rules import ApiError


def fail_first(world: TelegramWorld, method: str, times: int, status: int = 500) -> list[int]:
    """Make the fake Bot API answer ``status`` to the next ``times`` calls of ``method``
    (the same handler-table hook the draft-fallback test uses). Returns a failure counter."""
    tg = world.tg
    real = tg.handler_for(method)
    assert real is not None
    failed = [0]

    async def flaky(params: dict[str, Any], files: dict[str, Any]) -> Any:
        if failed[0] < times:
            failed[0] += 1
            raise ApiError(status, "Internal Server Error")
        return await real(params, files)

    tg._handlers[method.lower()] = flaky
    return failed


async def test_final_message_is_retried_after_a_server_error(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    failed = fail_first(world, "sendMessage", 1)
    world.gateway.script(Text("a streamed answer " * 10, chunk_size=9, delay=0.01))
    tg.user_sends(ann, 42, "hello")

    [final] = await world.wait_final(ann.id, "a streamed answer")
    assert final.text == ("a streamed answer " * 10).strip()
    assert failed == [1] and tg.drafts(ann)
    # barrier: the next turn's answer comes after any late duplicate of the first
    tg.user_sends(ann, 42, "probe")
    await world.wait_final(ann.id, "echo: probe")
    assert [m.text for m in tg.bot_messages(ann)] == [final.text, "echo: probe"]


async def test_undeliverable_answer_ends_with_a_notice(world: TelegramWorld) -> None:
    tg = world.tg
    li = tg.private_chat(43, language_code="zh-hans")
    failed = fail_first(world, "sendMessage", FAST_TIMINGS.final_attempts)
    world.gateway.script(Text("你好" * 20, chunk_size=4, delay=0.01))
    tg.user_sends(li, 43, "你好")

    notice = world.core.t("telegram.delivery_failed", "zh")
    [message] = await world.wait_final(li.id, notice)
    assert message.text == notice
    assert failed == [FAST_TIMINGS.final_attempts]


async def test_a_dead_presenter_cancels_its_turn(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    refuse = tg.handler_for("sendMessageDraft")
    assert refuse is not None

    async def garbled(params: dict[str, Any], files: dict[str, Any]) -> Any:
        await refuse(params, files)
        return {"unexpected": "shape"}  # not a bool: aiogram cannot decode the answer

    tg._handlers["sendmessagedraft"] = garbled
    world.gateway.script(Text("slow " * 500, chunk_size=5, delay=0.02))  # ~10 s
    tg.user_sends(ann, 42, "tell me a long story")

    await tg.wait_until(lambda: tg.drafts(ann))
    await tg.wait_until(lambda: world.core.scheduler.active_conversations == 0, timeout=3.0,
                        message="the turn kept running after its presenter died")
