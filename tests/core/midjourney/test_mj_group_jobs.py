"""/mj in a group: the result replies to the requester, buttons follow image_buttons,
and the daily image allowance counts Midjourney tasks."""

from __future__ import annotations

from core.app import ChatCore
from core.conversation.keys import Actor
from tests.core.conftest import ANN, BOB, GROUP, CoreFactory
from tests.core.midjourney.conftest import VirtualClock, button, events_of, result_media
from tests.fakes.gateway_mj import FakeMidjourney

ADMIN = Actor("test", "9", "Ada", "en", is_chat_admin=True)


async def test_group_mj_result_mentions_the_requester_and_guards_its_buttons(
        core: ChatCore, mj: FakeMidjourney, clock: VirtualClock) -> None:
    reply = await core.run_command_text("/mj a red fox", GROUP, ANN)
    assert reply is not None and not reply.is_error, reply
    media = result_media(await events_of(reply.ticket))
    assert media.reply_to_request and media.mention_requester
    refused = await core.run_action(button(media.actions, "U1").action_id, GROUP, BOB)
    assert refused.notice == "只有提问的人可以使用这个按钮。" and refused.alert
    assert len(mj.submits("action")) == 0
    pressed = await core.run_action(button(media.actions, "U1").action_id, GROUP, ANN)
    assert pressed.ticket is not None
    await events_of(pressed.ticket)
    assert len(mj.submits("action")) == 1


async def test_mj_tasks_count_against_the_daily_allowance(
        make_core: CoreFactory, mj: FakeMidjourney, clock: VirtualClock) -> None:
    core = await make_core(image_daily_allowance=1)
    first = await core.run_command_text("/mj a red fox", GROUP, ANN)
    assert first is not None and not first.is_error, first
    await events_of(first.ticket)
    second = await core.run_command_text("/mj a blue fox", GROUP, ANN)
    assert second is not None and second.is_error
    assert second.text.startswith("You have used your 1 images for today (1 of 1,")
    assert len(mj.submits("imagine")) == 1
