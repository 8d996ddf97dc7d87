"""Midjourney on Discord, end to end: /mj → progress → the grid with U1..U4/🔄/V1..V4 →
U2 → the upscale with its own buttons → Custom Zoom → an ephemeral follow-up whose button
opens a Modal → submit → the zoomed grid. The poller runs on a virtual clock."""

from __future__ import annotations

from typing import Any

import pytest

from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.fakes.discord_models import FakeMessage
from tests.fakes.gateway_mj import install_midjourney

pytestmark = pytest.mark.usefixtures("clock")  # tests/adapters/conftest.py


def buttons(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for row in components for b in row.get("components", [])]


def labels(message: FakeMessage) -> list[str]:
    return [str(b.get("label") or "") for b in buttons(message.components)]


def custom_id(components: list[dict[str, Any]], label: str) -> str:
    found: str = next(b["custom_id"] for b in buttons(components)
                      if label in str(b.get("label") or ""))
    return found


def with_button(world: DiscordWorld, label: str, count: int = 1) -> Any:
    def ready() -> list[FakeMessage] | None:
        found = [m for m in world.bot_messages(world.channel)
                 if m.attachments and any(label in x for x in labels(m))]
        return found if len(found) >= count else None
    return ready


async def test_mj_grid_upscale_and_custom_zoom_through_a_modal(world: DiscordWorld) -> None:
    mj = install_midjourney(world.gateway)
    dc = world.dc

    await dc.slash("mj", {"prompt": "a pig"}, user_id=USER, channel_id=world.channel)

    [grid] = await dc.wait_until(with_button(world, "U2"))
    assert [x for x in labels(grid) if x and x[0] in "UV"][:8] == [
        "U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4"]

    await dc.click(grid.id, custom_id(grid.components, "U2"), user_id=USER)

    [upscaled] = await dc.wait_until(with_button(world, "Custom Zoom"))
    zoom = await dc.click(upscaled.id, custom_id(upscaled.components, "Custom Zoom"),
                          user_id=USER)

    followup = await dc.wait_until(lambda: next(iter(zoom.followups), None) if any(
        m.components for m in zoom.followups) else None)
    assert followup.content.startswith("Custom Zoom: send the prompt with --zoom 1 to 2")
    opener = await dc.click(followup.id, custom_id(followup.components, "Custom Zoom"),
                            user_id=USER)
    await dc.wait_until(lambda: opener.callback)
    assert opener.callback is not None and opener.callback.type == 9  # a Modal
    modal = opener.callback.data
    assert len(modal["title"]) <= 45
    [text_input] = buttons(modal["components"])
    assert text_input["value"] == "a pig --zoom 2"

    await dc.submit_modal(modal["custom_id"],
                          {text_input["custom_id"]: "--zoom 1.5 --ar 1:1 a pig"},
                          user_id=USER, channel_id=world.channel)

    await dc.wait_until(with_button(world, "U2", count=2))
    [(_, body)] = mj.submits("modal")
    assert body["prompt"] == "--zoom 1.5 --ar 1:1 a pig"
