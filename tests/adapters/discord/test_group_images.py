"""Image jobs in a Discord channel, end to end: with one job at a time, Ann's second
/mj waits behind Bob's (round robin) and the waiting requesters see their place edited
in place; results reply to the command's response and mention the requester; Cat
pressing Ann's button gets an ephemeral refusal and no gateway call, until an admin
sets ``image_buttons anyone``. The poller runs on a virtual clock."""

from __future__ import annotations

from typing import Any

import pytest

from core.app import ChatCore
from tests.adapters.discord.conftest import ADMIN, USER, DiscordWorld, make_settings, start_bot
from tests.core.midjourney.conftest import VirtualClock
from tests.fakes.discord_models import FakeInteraction, FakeMessage
from tests.fakes.gateway_mj import STEPS, FakeMidjourney, install_midjourney

ANN, BOB, CAT = USER, 4343, 4444


pytestmark = pytest.mark.usefixtures("clock")  # tests/adapters/conftest.py


def custom_id(message: FakeMessage, label: str) -> str:
    for row in message.components:
        for button in row.get("components", []):
            if button.get("label") == label:
                found: str = button["custom_id"]
                return found
    raise AssertionError(f"no {label!r} on message {message.id}")


def has_button(message: FakeMessage, label: str) -> bool:
    return any(b.get("label") == label for row in message.components
               for b in row.get("components", []))


def answering(world: DiscordWorld, request: FakeInteraction | int, text: str = ""
              ) -> FakeMessage | None:
    """The bot's message replying to ``request`` (an interaction's response or a
    message id) and containing ``text``."""
    target = request if isinstance(request, int) else request.original_id
    return next((m for m in world.bot_messages(world.channel)
                 if target and m.reference_id == target and text in m.content), None)


def prompts(mj: FakeMidjourney) -> list[str]:
    return [str(body["prompt"]) for _, body in mj.submits("imagine")]


async def settings(world: DiscordWorld, user_id: int, name: str, value: str) -> str:
    inter = await world.dc.slash("settings", {"name": name, "value": value, "scope": "chat"},
                                 user_id=user_id, channel_id=world.channel)
    return await world.wait_ephemeral(inter)


async def test_group_jobs_queue_fairly_reply_mention_and_guard_buttons(
        world: DiscordWorld, clock: VirtualClock) -> None:
    mj = install_midjourney(world.gateway)
    dc = world.dc
    world.core.midjourney.timeout = 1e6  # a held task never times out in virtual time
    for name in ("image_jobs_per_chat", "image_jobs_per_user"):
        assert "1" in await settings(world, ADMIN, name, "1")

    clock.running.clear()  # tasks stand still while the queue forms
    ann1 = await dc.slash("mj", {"prompt": "fox one"}, user_id=ANN, channel_id=world.channel)
    await dc.wait_until(lambda: prompts(mj) == ["fox one"] or None)
    ann2 = await dc.slash("mj", {"prompt": "fox two"}, user_id=ANN, channel_id=world.channel)
    ann2_status = await dc.wait_until(lambda: answering(world, ann2, "⏳"))
    assert ann2_status.content == "⏳ Queued: position 1"
    bob1 = await dc.slash("mj", {"prompt": "bob cat"}, user_id=BOB, channel_id=world.channel,
                          locale="zh-CN")
    bob_status = await dc.wait_until(lambda: answering(world, bob1, "⏳"))
    assert bob_status.content == "⏳ 排队中:第 1 位"  # Bob's first job goes before Ann's second
    await dc.wait_until(lambda: ann2_status.content == "⏳ Queued: position 2" or None)
    assert prompts(mj) == ["fox one"]  # the running task holds the only slot

    mj.stuck = True  # Bob's task (submitted when Ann's first ends) waits for the test
    clock.running.set()
    await dc.wait_until(lambda: prompts(mj) == ["fox one", "bob cat"] or None)
    clock.running.clear()
    await dc.wait_until(lambda: ann2_status.content == "⏳ Queued: position 1" or None)
    assert [*ann2_status.history[-2:], ann2_status.content] == [
        "⏳ Queued: position 1", "⏳ Queued: position 2", "⏳ Queued: position 1"]  # in place
    mj.tasks[next(reversed(mj.tasks))].steps, mj.stuck = STEPS, False
    clock.running.set()

    def results() -> dict[int, FakeMessage] | None:
        found = {i.id: m for i in (ann1, ann2, bob1) if (m := answering(world, i)) is not None
                 and m.attachments and has_button(m, "U1")}
        return found if len(found) == 3 else None

    found = await dc.wait_until(results, timeout=20)
    assert prompts(mj) == ["fox one", "bob cat", "fox two"]  # round robin
    for inter, user_id in ((ann1, ANN), (ann2, ANN), (bob1, BOB)):
        assert found[inter.id].content.startswith(f"<@{user_id}> ")  # mentions the requester

    grid = found[ann1.id]
    actions_before = len(mj.submits("action"))
    press = await dc.click(grid.id, custom_id(grid, "U1"), user_id=CAT)
    assert await world.wait_ephemeral(press) == "Only the person who asked can use this button."
    assert len(mj.submits("action")) == actions_before  # no gateway call

    assert "anyone" in await settings(world, ADMIN, "image_buttons", "anyone")
    await dc.click(grid.id, custom_id(grid, "U1"), user_id=CAT)
    upscaled = await dc.wait_until(lambda: next(
        (m for m in world.bot_messages(world.channel) if m.reference_id == grid.id
         and m.attachments and m.content.startswith(f"<@{CAT}>")), None), timeout=20)
    assert len(mj.submits("action")) == actions_before + 1
    assert upscaled.components  # the upscale comes with its own buttons


async def test_a_non_admin_cannot_change_the_image_settings(world: DiscordWorld) -> None:
    refusals: list[Any] = []
    for locale in ("en-US", "zh-CN"):
        inter = await world.dc.slash(
            "settings", {"name": "image_buttons", "value": "anyone", "scope": "chat"},
            user_id=CAT, channel_id=world.channel, locale=locale)
        refusals.append(await world.wait_ephemeral(inter))
    assert refusals == ["Only chat admins can do that.", "只有群管理员可以这样做。"]


async def test_a_result_finished_after_a_restart_replies_to_the_request_and_mentions(
        world: DiscordWorld, clock: VirtualClock) -> None:
    mj = install_midjourney(world.gateway)
    dc = world.dc
    clock.running.clear()  # the task is still drawing when the bot stops
    request = await dc.slash("mj", {"prompt": "a fox at dawn"}, user_id=ANN,
                             channel_id=world.channel)
    await dc.wait_until(lambda: answering(world, request, "⏳"))
    assert prompts(mj) == ["a fox at dawn"] and request.original_id

    await world.bot.stop()
    await world.core.close()
    world.core = await ChatCore.create(make_settings(world.gateway, dc, world.tmp_path))
    world.core.midjourney.timeout = 1e6
    world.bot = await start_bot(world.core, world.settings)
    assert world.core.midjourney.tracker.following == list(mj.tasks)  # resumed
    clock.running.set()

    result = await dc.wait_until(lambda: next(
        (m for m in world.bot_messages(world.channel)
         if m.attachments and has_button(m, "U1")), None), timeout=20)
    assert result.reference_id == request.original_id  # the reply target was stored
    assert result.content.startswith(f"<@{ANN}> ")
