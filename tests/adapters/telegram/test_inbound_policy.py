"""The inbound policy on Telegram: the same cases as on Discord, the same decisions."""

from __future__ import annotations

import pytest

from core.conversation.keys import Actor, ChatRef
from tests.adapters.inbound_cases import PARAMS, Case, record_decisions
from tests.adapters.telegram.conftest import TelegramWorld

GROUP_ID = -100777
ANN = 42


@pytest.mark.parametrize("case", PARAMS)
async def test_the_core_decides_like_on_discord(world: TelegramWorld, case: Case,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    tg = world.tg
    chat = tg.private_chat(ANN) if case.private else tg.group_chat(GROUP_ID)
    if case.mode:
        ref = ChatRef("telegram", str(chat.id))
        admin = Actor("telegram", "7", is_chat_admin=True)
        await world.core.run_command("mode", {"reply": case.mode}, ref, admin)
    earlier: list[int] = []
    reply_to = None
    if case.reply_to_bot:  # a bot message to reply to
        tg.command(chat, ANN, "/help")
        [help_reply] = await world.wait_for_messages(chat.id, 1)
        earlier, reply_to = [help_reply.message_id], help_reply.message_id
    decisions = record_decisions(world.core, monkeypatch)
    text = case.text.replace("{bot}", tg.bot_username)
    entities = None
    if case.mention:
        text, entities = tg.mention_text(text)

    tg.user_sends(chat, ANN, text, entities=entities, reply_to=reply_to)

    await tg.wait_until(lambda: decisions)
    assert decisions == [case.decision]
    if case.shown is None:  # nothing shown: a probe's answer is the only new message
        tg.command(chat, ANN, "/help")
        await tg.wait_until(lambda: len(decisions) == 2)
        await world.wait_for_messages(chat.id, len(earlier) + 1)
        new = [m for m in tg.bot_messages(chat) if m.message_id not in earlier]
        assert len(new) == 1 and decisions[1] == "command"
    else:
        done = await world.wait_for_messages(
            chat.id, len(earlier) + 1,
            done=lambda ms: any(m.text.startswith(case.shown or "") and not m.reply_markup
                                for m in ms if m.message_id not in earlier))
        new = [m.text for m in done if m.message_id not in earlier]
        assert len(new) == 1 and new[0].startswith(case.shown)
        if case.shown.startswith("Unknown"):
            assert new == [case.shown]
    assert len(world.gateway.chat_requests()) == (1 if case.decision == "turn" else 0)
