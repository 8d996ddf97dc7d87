"""User asks → bot answers with a fence inside a nested list, longer than one message."""

from __future__ import annotations

from adapters.discord.render import open_fence
from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.adapters.discord.test_render import INSTALL, NESTED_LIST_ANSWER
from tests.fakes.gateway_replies import Text


async def test_streamed_fence_in_a_nested_list_arrives_balanced_in_two_messages(
        world: DiscordWorld) -> None:
    world.gateway.script(Text(NESTED_LIST_ANSWER, chunk_size=300))
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, "how do I install it?")
    first, second = await world.wait_final(dm, "2. Done.")
    assert first.content.startswith("Setup steps:\n\n1. Install the tools\n")
    assert first.content.endswith("\n        ```")
    assert second.content.startswith("        ```bash\n")
    assert second.content.endswith("        ```\n2. Done.")
    assert all(len(m.content) <= 2000 and open_fence(m.content) is None
               for m in (first, second))
    lines = [line for m in (first, second) for line in m.content.split("\n") if "echo" in line]
    assert lines == INSTALL.split("\n")
