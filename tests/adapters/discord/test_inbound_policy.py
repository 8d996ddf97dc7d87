"""The inbound policy on Discord text messages: the same cases as on Telegram."""

from __future__ import annotations

import pytest

from core.conversation.keys import Actor, ChatRef
from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.adapters.inbound_cases import PARAMS, Case, record_decisions


@pytest.mark.parametrize("case", PARAMS)
async def test_the_core_decides_like_on_telegram(world: DiscordWorld, case: Case,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    dc = world.dc
    channel = dc.dm_channel_id(USER) if case.private else world.channel
    if case.mode:
        ref = ChatRef("discord", str(channel))
        admin = Actor("discord", "1", is_chat_admin=True)
        await world.core.run_command("mode", {"reply": case.mode}, ref, admin)
    earlier: list[int] = []
    reply_to = None
    if case.reply_to_bot:  # a bot message to reply to
        await dc.user_sends(channel, USER, "/help")
        (help_reply,) = await dc.wait_until(lambda: world.bot_messages(channel))
        earlier, reply_to = [help_reply.id], help_reply.id
    decisions = record_decisions(world.core, monkeypatch)
    assert world.bot.client.user is not None
    text = case.text.replace("{bot}", world.bot.client.user.name)

    await dc.user_sends(channel, USER, text, mention_bot=case.mention, reply_to=reply_to)

    await dc.wait_until(lambda: decisions)
    assert decisions == [case.decision]

    def new_messages() -> list[str]:
        return [m.content for m in world.bot_messages(channel) if m.id not in earlier]

    if case.shown is None:  # nothing shown: a probe's answer is the only new message
        await dc.user_sends(channel, USER, "/help")
        await dc.wait_until(lambda: len(decisions) == 2 and new_messages())
        assert len(new_messages()) == 1 and decisions[1] == "command"
    else:
        shown = case.shown
        await dc.wait_until(lambda: any(t.startswith(shown) for t in new_messages()) and not
                            any(m.components for m in world.bot_messages(channel)))
        assert len(new_messages()) == 1 and new_messages()[0].startswith(shown)
        if shown.startswith("Unknown"):
            assert new_messages() == [shown]
    assert len(world.chat_bodies()) == (1 if case.decision == "turn" else 0)
