"""Midjourney across a bot restart on Discord (a new bot and core on the same SQLite
file): a task IN_PROGRESS resumes and its result is posted in the same channel; buttons
of an earlier result still work. Vary Region with the user's own mask: a Modal takes no
file, so the user replies to the square picker with the mask image and the prompt (also
after a restart); a typed ``/mj`` message gets its job presented too."""

from __future__ import annotations

from typing import Any

import pytest

from core.conversation.keys import Actor
from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.adapters.discord.mj_support import (
    attachment,
    custom_id,
    image_with,
    labels,
    messages_with,
    restart,
    text_with,
)
from tests.adapters.mj_shared import WHITE, mask_of, pause_in_progress, resume_polling
from tests.core.midjourney.conftest import VirtualClock
from tests.fakes.discord_models import FakeMessage
from tests.fakes.gateway_mj import FakeMidjourney, install_midjourney

pytestmark = pytest.mark.usefixtures("clock")  # tests/adapters/conftest.py


async def upscaled(world: DiscordWorld) -> FakeMessage:
    """/mj a pig → the grid → U1 → the upscaled image (with Vary Region)."""
    await world.dc.slash("mj", {"prompt": "a pig"}, user_id=USER, channel_id=world.channel)
    [grid] = await world.dc.wait_until(messages_with(world, world.channel, image_with("U1")))
    await world.dc.click(grid.id, custom_id(grid, "U1"), user_id=USER)
    found: list[FakeMessage] = await world.dc.wait_until(messages_with(
        world, world.channel, image_with("🖌️ Vary (Region)")))
    return found[0]


async def region_picker(world: DiscordWorld) -> FakeMessage:
    image = await upscaled(world)
    await world.dc.click(image.id, custom_id(image, "🖌️ Vary (Region)"), user_id=USER)
    found: list[FakeMessage] = await world.dc.wait_until(messages_with(
        world, world.channel, text_with("tap the squares")))
    return found[0]


async def answered_with_white_mask(world: DiscordWorld, mj: FakeMidjourney, text: str,
                                   reply_to: int) -> dict[str, Any]:
    """The user replies to ``reply_to`` with ``text`` and a white mask image → a new
    grid; the modal the gateway received."""
    await world.dc.user_sends(world.channel, USER, text, reply_to=reply_to,
                              attachments=[attachment(WHITE, "mask.png")])
    await world.dc.wait_until(messages_with(world, world.channel, image_with("U1"),
                                            count=2))
    [(_, body)] = mj.submits("modal")
    assert body["prompt"] == text
    return body


async def test_a_task_in_progress_at_a_restart_is_posted_to_the_same_channel(
        world: DiscordWorld, clock: VirtualClock) -> None:
    mj = install_midjourney(world.gateway)
    await world.dc.slash("mj", {"prompt": "a red fox"}, user_id=USER, channel_id=world.channel)
    [grid] = await world.dc.wait_until(messages_with(world, world.channel, image_with("U2")))
    first_task = list(mj.tasks)[-1]

    pause_in_progress(mj, clock)  # the bot stops while a task is IN_PROGRESS
    await world.dc.slash("mj", {"prompt": "a blue cat"}, user_id=USER, channel_id=world.channel)
    await world.dc.wait_until(messages_with(world, world.channel, text_with("Drawing")))
    task_id = list(mj.tasks)[-1]
    polled = mj.polls[task_id]

    await restart(world)
    resume_polling(mj, clock)

    results = await world.dc.wait_until(messages_with(world, world.channel, image_with("U2"),
                                                      count=2))
    assert results[-1].content.endswith("`a blue cat`")
    assert mj.polls[task_id] > polled  # polling resumed after the restart

    await world.dc.click(grid.id, custom_id(grid, "U2"), user_id=USER)  # an earlier button

    await world.dc.wait_until(messages_with(world, world.channel,
                                            image_with("🔍 Custom Zoom")))
    [(_, action)] = mj.submits("action")
    assert (action["taskId"], action["customId"].split("::")[:4]) == (
        first_task, ["MJ", "JOB", "upsample", "2"])


async def test_replying_to_the_region_picker_with_an_image_sends_it_as_the_mask(
        world: DiscordWorld) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    board = await region_picker(world)
    assert "Or reply to this message with a mask image" in board.content

    body = await answered_with_white_mask(world, mj, "a red hat", board.id)

    assert mask_of(body).size == (32, 32) and mask_of(body).getpixel((0, 0)) == 255


async def test_the_picker_still_takes_a_mask_reply_after_a_restart(world: DiscordWorld
                                                                   ) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    board = await region_picker(world)

    await restart(world)
    body = await answered_with_white_mask(world, mj, "a blue hat", board.id)

    assert body["prompt"] == "a blue hat"
    assert mask_of(body).getpixel((0, 0)) == 255  # the reply's white mask, after the restart


async def test_a_text_reply_to_the_picker_without_squares_or_mask_is_explained(
        world: DiscordWorld) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    board = await region_picker(world)

    await world.dc.user_sends(world.channel, USER, "a hat", reply_to=board.id)

    await world.dc.wait_until(messages_with(world, world.channel, text_with("Pick squares")))
    [note] = [m for m in world.bot_messages(world.channel) if "Pick squares" in m.content]
    assert note.content == ("Pick squares on the picker, or reply to it with a mask image "
                            "(white = the area to redraw) and the prompt.")
    assert mj.submits("modal") == []


async def test_someone_else_replying_to_the_picker_is_refused(world: DiscordWorld) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    world.dc.add_member(777, "bob")
    board = await region_picker(world)

    await world.dc.user_sends(world.channel, 777, "a cow", reply_to=board.id,
                              attachments=[attachment(WHITE, "mask.png")])

    await world.dc.wait_until(messages_with(world, world.channel,
                                            text_with("Only the person who asked")))
    assert mj.submits("modal") == []
    assert "⬜" in labels(board)[0]  # the picker is still open for its owner


async def test_a_typed_mj_command_in_a_dm_shows_its_job(world: DiscordWorld) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    dm = world.dc.dm_channel_id(USER)

    await world.dc.user_sends(dm, USER, "/mj a green owl")

    [grid] = await world.dc.wait_until(messages_with(world, dm, image_with("U1")))
    assert grid.content.endswith("`a green owl`")
    assert mj.submits("imagine")[0][1]["prompt"] == "a green owl"


async def test_the_custom_zoom_form_button_still_opens_the_form_after_a_restart(
        world: DiscordWorld) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    image = await upscaled(world)
    zoom = await world.dc.click(image.id, custom_id(image, "🔍 Custom Zoom"), user_id=USER)
    followup = await world.dc.wait_until(lambda: next(
        (m for m in zoom.followups if m.components), None))
    assert labels(followup) == ["✏️ Custom Zoom: send the prompt with --zoom 1 to 2 "
                                "(e.g. --zoom 1.5)."]

    await restart(world)
    opener = await world.dc.click(followup.id, custom_id(followup, labels(followup)[0]),
                                  user_id=USER)

    await world.dc.wait_until(lambda: opener.callback)
    assert opener.callback is not None and opener.callback.type == 9  # a Modal, at once
    form = opener.callback.data
    [field] = [c for row in form["components"] for c in row["components"]]
    assert field["value"] == "a pig --zoom 2"
    await world.dc.submit_modal(form["custom_id"], {field["custom_id"]: "a pig --zoom 1.5"},
                                user_id=USER, channel_id=world.channel)

    await world.dc.wait_until(messages_with(world, world.channel, image_with("U1"),
                                            count=2))
    [(_, body)] = mj.submits("modal")
    assert body["prompt"] == "a pig --zoom 1.5"


async def test_a_job_still_queued_at_a_restart_says_so_and_gives_the_allowance_back(
        world: DiscordWorld, clock: VirtualClock) -> None:
    """One job per user at a time: the second /mj waits ("⏳ Queued…") when the bot
    stops → its status says it did not start, its reserved image is given back; the
    running one resumes after the restart."""
    mj = install_midjourney(world.gateway)

    pause_in_progress(mj, clock)  # the bot stops while a task is IN_PROGRESS
    await world.dc.slash("mj", {"prompt": "a red fox"}, user_id=USER, channel_id=world.channel)
    await world.dc.wait_until(lambda: not clock.running.is_set())
    await world.dc.slash("mj", {"prompt": "a blue cat"}, user_id=USER, channel_id=world.channel)
    [status] = await world.dc.wait_until(messages_with(world, world.channel,
                                                       text_with("⏳ Queued")))
    user = Actor("discord", str(USER))
    old = world.core
    assert old.image_jobs.allowance.reserved(user) == 1  # the queued job's image

    await restart(world)
    notice = "⏹ Not started: the bot restarted. Send the command again."
    assert status.content == notice
    assert old.image_jobs.allowance.reserved(user) == 0  # given back
    assert await world.core.image_jobs.allowance.used_today(user) == 1  # the first only
    assert [body["prompt"] for _, body in mj.submits("imagine")] == ["a red fox"]

    resume_polling(mj, clock)
    await world.dc.wait_until(messages_with(world, world.channel, image_with("U2")))
    assert status.content == notice
