"""A user who blocks the bot (or a channel the bot lost) mid-answer: stop at the first
refusal, cancel the turn and the queued ones, no traceback."""

from __future__ import annotations

import logging

import pytest

from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.fakes.gateway_replies import Text


def calls_to(world: DiscordWorld, channel_id: int) -> list[tuple[str, int]]:
    return [(c.path, c.status) for c in world.dc.calls
            if c.path.startswith(f"/channels/{channel_id}/")]


@pytest.mark.parametrize(("status", "message", "code"), [
    (403, "Cannot send messages to this user", 50007),
    (403, "Missing Access", 50001),
    (404, "Unknown Channel", 10003),
])
async def test_a_dm_that_refuses_the_bot_mid_answer_stops_the_turn(
        world: DiscordWorld, caplog: pytest.LogCaptureFixture, status: int, message: str,
        code: int) -> None:
    dm = world.dc.dm_channel_id(USER)
    world.gateway.script(Text("story " * 400, chunk_size=6, delay=0.02))  # ~8 s
    await world.dc.user_sends(dm, USER, "tell me a long story")
    await world.dc.wait_until(lambda: world.bot_messages(dm))  # the answer is streaming
    await world.dc.user_sends(dm, USER, "and another one")  # queued behind it
    await world.dc.wait_until(lambda: sum(
        len(lane.pending) for lane in world.core.scheduler._lanes.values()) == 1)
    caplog.set_level(logging.INFO)
    world.dc.refuse(dm, status, message, code)

    await world.dc.wait_until(lambda: world.core.scheduler.active_conversations == 0,
                              timeout=3.0)
    await world.dc.wait_until(lambda: world.gateway.client_disconnects == 1)
    assert len(world.chat_bodies()) == 1, "the queued message was cancelled too"
    writes = [(path, answered) for path, answered in calls_to(world, dm)
              if not path.endswith("/typing")]  # typing of queued turns may be in flight
    first = next(i for i, (_, answered) in enumerate(writes) if answered == status)
    assert writes[first + 1:] == [], "no message writes after the first refusal"
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
