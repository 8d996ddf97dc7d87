"""/chat, mentions, threads and DMs: user does X → sees Y."""

from __future__ import annotations

from tests.adapters.discord.conftest import ADMIN, USER, DiscordWorld
from tests.fakes.gateway_replies import Text

LONG = " ".join(f"word{i}" for i in range(60))


async def test_slash_chat_streams_the_answer_into_a_new_thread(world: DiscordWorld) -> None:
    world.gateway.script(Text(LONG, chunk_size=12, delay=0.03))
    inter = await world.dc.slash("chat", {"prompt": "Tell me about words\nplease"}, user_id=USER)

    # the interaction is deferred at once (publicly) and becomes the thread's opener
    await inter.wait_responses(1)
    assert inter.callback is not None and inter.callback.type == 5 and not inter.ephemeral
    assert await world.wait_original(inter) == "**ann:** Tell me about words\nplease"
    thread = (await world.dc.wait_until(lambda: world.dc.threads_created))[0]
    assert thread.name == "Tell me about words" and thread.parent_id == world.channel

    messages = await world.wait_final(thread.id, LONG)
    assert [m.content for m in messages] == [LONG]
    answer = messages[0]
    assert answer.edits >= 2  # streamed: sent early, then edited as text arrived
    assert all(LONG.startswith(old) for old in answer.history if old)
    assert world.dc.typing and world.dc.typing[0] == thread.id
    assert world.dc.rate_limited == 0

    # the thread is the conversation: a follow-up without mention continues it
    await world.dc.user_sends(world.channel, USER, "and more?", thread=thread.id)
    await world.wait_final(thread.id, "echo: and more?")
    history = [m["content"] for m in world.chat_bodies()[-1]["messages"]]
    assert "Tell me about words\nplease" in history and LONG in history


async def test_slash_chat_in_a_thread_answers_inline(world: DiscordWorld) -> None:
    thread = await world.dc.user_creates_thread(world.channel, USER, "my own thread")
    inter = await world.dc.slash("chat", {"prompt": "hi in thread"}, user_id=USER,
                                 channel_id=thread)
    assert await world.wait_original(inter, lambda text: "echo" in text) == "echo: hi in thread"
    await world.dc.wait_until(lambda: inter.original and not inter.original.components)
    assert not world.dc.threads_created
    # a thread the bot did not open still needs a mention
    await world.dc.user_sends(world.channel, USER, "anyone?", thread=thread)
    # barrier: a mentioned probe in the same thread is answered after "anyone?" was handled
    await world.dc.user_sends(world.channel, USER, "probe", thread=thread, mention_bot=True)
    await world.wait_final(thread, "echo: probe")
    assert len(world.chat_bodies()) == 2
    assert "anyone?" not in [m["content"] for m in world.chat_bodies()[-1]["messages"]]
    assert [m.content for m in world.bot_messages(thread)] == ["echo: hi in thread",
                                                               "echo: probe"]


async def test_channel_messages_need_a_mention_or_a_reply(world: DiscordWorld) -> None:
    ch = world.channel
    await world.dc.user_sends(ch, USER, "just chatting with friends")

    # the mentioned message is the barrier: answered after the first one was handled
    asked = await world.dc.user_sends(ch, USER, "what is up", mention_bot=True)
    (answer,) = await world.wait_final(ch, "echo: what is up")
    assert world.bot_messages(ch) == [answer] and len(world.chat_bodies()) == 1
    assert [m["content"] for m in world.chat_bodies()[0]["messages"]] == ["what is up"]
    assert answer.reference_id == asked.id  # answered as a reply, mention stripped
    assert world.chat_bodies()[-1]["messages"][-1]["content"] == "what is up"

    await world.dc.user_sends(ch, USER, "tell me more", reply_to=answer.id)
    await world.wait_final(ch, "echo: tell me more")
    assert len(world.chat_bodies()) == 2


async def test_mode_all_answers_every_message(world: DiscordWorld) -> None:
    denied = await world.dc.slash("mode", {"reply": "all"}, user_id=USER)
    assert "admin" in await world.wait_ephemeral(denied)

    inter = await world.dc.slash("mode", {"reply": "all"}, user_id=ADMIN)
    assert "all" in await world.wait_ephemeral(inter)
    await world.dc.user_sends(world.channel, USER, "no mention needed")
    await world.wait_final(world.channel, "echo: no mention needed")


async def test_dm_messages_are_always_turns(world: DiscordWorld) -> None:
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, "hello there")
    messages = await world.wait_final(dm, "echo: hello there")
    assert [m.content for m in messages] == ["echo: hello there"]


async def test_opened_threads_are_remembered_in_a_bounded_lru(world: DiscordWorld) -> None:
    handlers = world.bot.handlers
    handlers.opened_threads_max = 2
    for number in range(3):
        await world.dc.slash("chat", {"prompt": f"topic {number}"}, user_id=USER)
        wanted = number + 1
        await world.dc.wait_until(lambda: len(world.dc.threads_created) == wanted)  # noqa: B023
        thread = world.dc.threads_created[number]
        await world.wait_final(thread.id, f"echo: topic {number}")
    first, second, third = world.dc.threads_created
    assert list(handlers.opened_threads) == [second.id, third.id]  # the oldest was dropped

    # the thread's owner (the bot) still marks it as the bot's: no mention needed
    await world.dc.user_sends(world.channel, USER, "back to the first", thread=first.id)
    await world.wait_final(first.id, "echo: back to the first")
