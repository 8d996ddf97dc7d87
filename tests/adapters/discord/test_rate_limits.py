"""Discord's per-channel write limit: coalesced edits, and 429s survived."""

from __future__ import annotations

import pytest

from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.fakes.gateway_replies import Text

ANSWER = "\n\n".join(" ".join(f"w{p}-{i}" for i in range(60)) for p in range(12))  # ~5 kB


@pytest.fixture
def edit_interval() -> float:
    """Write far faster than Discord allows, to provoke 429s."""
    return 0.01


async def test_429_during_streaming_still_delivers_the_full_text(world: DiscordWorld) -> None:
    world.dc.limits.per_channel = 3
    world.dc.limits.window = 0.5
    world.dc.limits.advertise_headers = False  # discord.py can't pre-empt: real 429s
    world.gateway.script(Text(ANSWER, chunk_size=40, delay=0.005))
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, "long please")
    messages = await world.wait_final(dm, "w11-59", timeout=20)
    assert world.dc.rate_limited > 0  # discord.py waited them out (Via + retry_after)
    assert all(len(m.content) <= 2000 for m in messages)
    assert "\n\n".join(m.content for m in messages) == ANSWER
