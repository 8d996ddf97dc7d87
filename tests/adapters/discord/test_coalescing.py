"""With the production interval and Discord's real limit, streaming never hits a 429."""

from __future__ import annotations

import pytest

from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.fakes.gateway_replies import Text


@pytest.fixture
def edit_interval() -> float:
    """Production spacing, scaled like the fake's 1 s window (5 writes / 1 s)."""
    return 0.24


async def test_two_streams_in_one_channel_share_the_budget(world: DiscordWorld) -> None:
    world.dc.limits.advertise_headers = False  # no pre-emptive sleeps: only our throttle
    text = " ".join(f"t{i}" for i in range(150))
    world.gateway.script(Text(text, chunk_size=4, delay=0.004), Text(text, chunk_size=4,
                                                                     delay=0.004))
    await world.dc.user_sends(world.channel, USER, "first", mention_bot=True)
    await world.dc.user_sends(world.channel, 5151, "second", mention_bot=True)
    await world.dc.wait_until(
        lambda: sum(text == m.content and not m.components
                    for m in world.bot_messages(world.channel)) == 2, timeout=10)
    writes = [c for c in world.dc.calls if f"/channels/{world.channel}/messages" in c.path
              and c.method in ("POST", "PATCH")]
    assert world.dc.rate_limited == 0
    assert len(writes) < 150 / 4  # deltas coalesced into few edits
