"""The progress message of a Midjourney job survives a bot restart on Discord: the
message that showed "Drawing… 30%" before the restart (the slash command's response) is
edited into the result, so the channel ends with one result and no progress frozen at
30%. If a moderator deleted the progress message meanwhile (404 Unknown Message), the
result is simply sent as a new message."""

from __future__ import annotations

from typing import Any

import pytest

from core.parts import ShownAt
from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.adapters.discord.mj_support import image_with, messages_with, restart, text_with
from tests.core.midjourney.conftest import VirtualClock
from tests.fakes.discord_models import FakeMessage
from tests.fakes.gateway_mj import FakeMidjourney, install_midjourney

pytestmark = pytest.mark.usefixtures("clock")  # tests/adapters/conftest.py


async def drawing_at_restart(world: DiscordWorld, clock: VirtualClock, mj: FakeMidjourney,
                             prompt: str) -> FakeMessage:
    """/mj ``prompt`` → "Drawing… 30%" shown and stored with the task → the bot
    restarts (the task still running); returns the progress message."""
    def pause_when_in_progress(task: dict[str, Any]) -> None:
        if task["status"] == "IN_PROGRESS":
            clock.running.clear()  # the poller's next sleep waits: the bot stops here

    mj.on_poll = pause_when_in_progress
    await world.dc.slash("mj", {"prompt": prompt}, user_id=USER, channel_id=world.channel)
    found: list[FakeMessage] = await world.dc.wait_until(messages_with(
        world, world.channel, text_with("Drawing… 30%")))
    [progress] = found
    follow = world.core.midjourney.tracker.get(list(mj.tasks)[-1])
    assert follow is not None
    stored = ShownAt((str(progress.id),), media=bool(progress.attachments))
    await world.dc.wait_until(  # barrier: the presenter reported it, the core stored it
        lambda: ShownAt.from_json(follow.state["row"].shown.get("job")) == stored)
    await world.core.midjourney.settle()
    await restart(world)
    return progress


async def finished(world: DiscordWorld) -> list[FakeMessage]:
    """Barrier: the result image is shown and its presentation has ended; the bot's
    messages in the channel after the command's response."""
    await world.dc.wait_until(messages_with(world, world.channel, image_with("U2")))
    await world.bot.handlers.presentations.settle(None)
    header, *rest = world.bot_messages(world.channel)
    assert header.content.startswith("🎨 Midjourney:")  # the command's response
    return rest


async def test_the_progress_message_shown_before_a_restart_becomes_the_result(
        world: DiscordWorld, clock: VirtualClock) -> None:
    mj = install_midjourney(world.gateway)
    progress = await drawing_at_restart(world, clock, mj, "a blue cat")
    row = await world.core.store.mj_tasks.get(list(mj.tasks)[-1])
    assert row is not None and row.shown["job"]["ids"] == [str(progress.id)]

    mj.on_poll = None
    clock.running.set()
    messages = await finished(world)

    [result] = messages  # one message: no stale "Drawing… 30%"
    assert result.id == progress.id  # edited in place
    assert result.content.endswith("`a blue cat`") and "U2" in " ".join(
        b.get("label") or "" for row in result.components for b in row["components"])


async def test_a_progress_message_deleted_during_the_restart_is_replaced_by_a_new_result(
        world: DiscordWorld, clock: VirtualClock) -> None:
    mj = install_midjourney(world.gateway)
    progress = await drawing_at_restart(world, clock, mj, "a green cat")
    world.dc.user_deletes(progress.id)  # a moderator removed it meanwhile

    mj.on_poll = None
    clock.running.set()
    messages = await finished(world)

    [result] = messages  # sent anew, no error shown
    assert result.id != progress.id and result.content.endswith("`a green cat`")
    assert result.attachments


async def test_after_a_restart_the_same_message_goes_on_showing_the_progress(
        world: DiscordWorld, clock: VirtualClock) -> None:
    """30% before the restart → 70% after it in the same message → the result there."""
    mj = install_midjourney(world.gateway)
    progress = await drawing_at_restart(world, clock, mj, "a blue cat")

    def pause_at_70(task: dict[str, Any]) -> None:
        if task["progress"] == "70%":
            clock.running.clear()

    mj.on_poll = pause_at_70
    clock.running.set()
    [drawing] = await world.dc.wait_until(messages_with(world, world.channel,
                                                        text_with("Drawing… 70%")))
    assert drawing.id == progress.id and drawing.attachments  # edited, with its preview

    mj.on_poll = None
    clock.running.set()
    [result] = await finished(world)
    assert result.id == progress.id and result.content.endswith("`a blue cat`")


async def test_a_progress_message_deleted_while_the_job_runs_is_replaced_by_the_result(
        world: DiscordWorld, clock: VirtualClock) -> None:
    """No restart: a moderator deletes "Drawing… 30%" → the result comes as a new
    message (its edit got 404 Unknown Message), with no error in the channel."""
    mj = install_midjourney(world.gateway)

    def pause_when_in_progress(task: dict[str, Any]) -> None:
        if task["status"] == "IN_PROGRESS":
            clock.running.clear()

    mj.on_poll = pause_when_in_progress
    await world.dc.slash("mj", {"prompt": "a grey cat"}, user_id=USER,
                         channel_id=world.channel)
    found: list[FakeMessage] = await world.dc.wait_until(messages_with(
        world, world.channel, text_with("Drawing… 30%")))
    world.dc.user_deletes(found[0].id)

    mj.on_poll = None
    clock.running.set()
    [result] = await finished(world)
    assert result.id != found[0].id and result.content.endswith("`a grey cat`")
