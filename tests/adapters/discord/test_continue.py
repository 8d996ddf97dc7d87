"""An answer that hit the output limit: text + note + Continue button; the button or the
word "continue" gets the rest as a normal turn (one gateway request each)."""

from __future__ import annotations

from core.conversation.continuation import CONTINUE_PROMPT
from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.fakes.discord import FakeMessage
from tests.fakes.gateway_replies import ErrorBody200, Text, length

OTHER = 777
NOTE_EN = "✂️ The answer hit the length limit. Send “continue” (or press the button) for the rest."


def buttons(message: FakeMessage) -> list[tuple[str, str]]:
    """(emoji + label, custom_id) of every button."""
    return [(f"{(b.get('emoji') or {}).get('name', '')} {b['label']}".strip(), b["custom_id"])
            for row in message.components for b in row["components"]]


async def test_capped_answer_offers_continue_and_the_button_continues(
    world: DiscordWorld,
) -> None:
    world.gateway.script(length("Chapter one, where"), Text(" the story ends."))
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, "tell a story")

    answer, note = await world.dc.wait_until(
        lambda: (m := world.bot_messages(dm)) and len(m) == 2 and m[1].components and m)
    assert answer.content == "Chapter one, where" and not answer.components
    assert note.content == NOTE_EN
    [(label, custom_id)] = buttons(note)
    assert label == "▶️ Continue" and custom_id.startswith("cb:a:")  # a persistent action

    stranger = await world.dc.click(note.id, custom_id, user_id=OTHER)
    assert await world.wait_ephemeral(stranger) == (
        "Only the person who asked can use this button.")
    await world.dc.click(note.id, custom_id, user_id=USER)

    messages = await world.wait_final(dm, "the story ends.")
    assert [m.content for m in messages] == ["Chapter one, where", NOTE_EN, " the story ends."]
    assert buttons(messages[1]) == []  # pressed once: the button is gone
    _, second = world.chat_bodies()
    assert [(m["role"], m["content"]) for m in second["messages"][-3:]] == [
        ("user", "tell a story"), ("assistant", "Chapter one, where"),
        ("user", CONTINUE_PROMPT)]


async def test_typing_continue_does_the_same(world: DiscordWorld) -> None:
    world.gateway.script(length("Part one"), Text("part two."))
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, "write")
    await world.dc.wait_until(lambda: any(m.components for m in world.bot_messages(dm)))

    await world.dc.user_sends(dm, USER, "Continue")

    await world.dc.wait_until(lambda: any(m.content == "part two."
                                          for m in world.bot_messages(dm)))
    assert len(world.chat_bodies()) == 2
    assert world.chat_bodies()[-1]["messages"][-1]["content"] == CONTINUE_PROMPT


async def test_quota_error_shows_the_gateway_reason(world: DiscordWorld) -> None:
    world.gateway.script(ErrorBody200("该令牌额度已用尽"))
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, "hello")

    await world.wait_final(dm, "The gateway said: 该令牌额度已用尽")
    assert len(world.chat_bodies()) == 1
