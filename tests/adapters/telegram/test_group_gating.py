"""Groups: mention / reply-to-bot / /ask gating, admin-only /mode, forum topics."""

from __future__ import annotations

from tests.adapters.telegram.conftest import TelegramWorld

GROUP_ID = -100123


async def test_plain_group_message_gets_no_answer_but_a_mention_does(world: TelegramWorld
                                                                    ) -> None:
    tg = world.tg
    group = tg.group_chat(GROUP_ID)
    tg.user_sends(group, 7, "just chatting with friends")
    text, entities = tg.mention_text("what is 2+2?")
    asked = tg.user_sends(group, 7, text, entities=entities)

    [answer] = await world.wait_final(group.id, "echo: what is 2+2?")
    assert answer.reply_to == asked["message_id"]
    assert answer.text == "echo: what is 2+2?"  # the @mention is stripped from the prompt
    assert [r["messages"][-1]["content"] for r in world.gateway.chat_requests()] == [
        "what is 2+2?"]


async def test_reply_to_bot_and_ask_command_are_answered(world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(GROUP_ID)
    tg.command(group, 7, "/ask@chatbridge_bot first question")
    [first] = await world.wait_final(group.id, "echo: first question")

    tg.user_sends(group, 8, "a follow-up", reply_to=first.message_id)
    messages = await world.wait_final(group.id, "echo: a follow-up")
    assert len(messages) == 2
    tg.command(group, 7, "/ask another one")
    await world.wait_final(group.id, "echo: another one")
    assert len(world.gateway.chat_requests()) == 3


async def test_group_streams_by_editing_one_message_with_a_stop_button(world: TelegramWorld
                                                                      ) -> None:
    from tests.fakes.gateway_replies import Text

    tg = world.tg
    group = tg.group_chat(GROUP_ID)
    world.gateway.script(Text("word " * 60, chunk_size=5, delay=0.02))
    text, entities = tg.mention_text("talk")
    tg.user_sends(group, 7, text, entities=entities)

    streaming = await world.wait_for_messages(group.id, 1)
    assert streaming[0].reply_markup, "a Stop button while streaming"
    [final] = await world.wait_final(group.id, "word word")
    assert final.text.strip() == ("word " * 60).strip()
    assert final.edits >= 1 and not tg.drafts(group)


async def test_admin_switches_mode_and_non_admin_is_refused(world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(GROUP_ID, admins={7})

    tg.command(group, 8, "/mode reply:all")
    [refusal] = await world.wait_for_messages(group.id, 1)
    assert "admin" in refusal.text.lower()
    tg.user_sends(group, 8, "anyone there?")
    # barrier: a mentioned probe from the same user is answered after the plain message
    text, entities = tg.mention_text("probe")
    tg.user_sends(group, 8, text, entities=entities)
    await world.wait_final(group.id, "echo: probe")
    [request] = world.gateway.chat_requests()
    assert [m["content"] for m in request["messages"]] == ["probe"]

    tg.command(group, 7, "/mode reply:all context:per_user")
    await world.wait_for_messages(group.id, 3)
    tg.user_sends(group, 8, "anyone there now?")
    await world.wait_final(group.id, "echo: anyone there now?")
    assert tg.calls_of("getChatMember")


async def test_forum_topics_keep_separate_contexts(world: TelegramWorld) -> None:
    tg = world.tg
    forum = tg.group_chat(GROUP_ID, is_forum=True)
    topic_a, topic_b = tg.create_topic(forum, "A"), tg.create_topic(forum, "B")

    tg.command(forum, 7, "/ask remember apples", thread_id=topic_a)
    await world.wait_final(forum.id, "echo: remember apples", thread_id=topic_a)
    tg.command(forum, 7, "/ask remember bananas", thread_id=topic_b)
    await world.wait_final(forum.id, "echo: remember bananas", thread_id=topic_b)
    tg.command(forum, 7, "/ask what did I say?", thread_id=topic_a)
    await world.wait_final(forum.id, "echo: what did I say?", thread_id=topic_a)

    last = world.gateway.chat_requests()[-1]["messages"]
    contents = " ".join(str(m["content"]) for m in last)
    assert "apples" in contents and "bananas" not in contents
    assert all(m.thread_id in (topic_a, topic_b) for m in tg.bot_messages(forum))
    assert [m.thread_id for m in tg.bot_messages(forum)] == [topic_a, topic_b, topic_a]


async def test_admin_status_cache_is_bounded(world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(-100444, admins={11})
    world.bot.handlers.admin_cache_size = 2

    def lookups(user_id: int) -> int:
        return sum(1 for c in tg.calls_of("getChatMember") if c.params.get("user_id") == user_id)

    for count, user_id in enumerate((11, 12, 13, 11), start=1):
        tg.command(group, user_id, "/help")
        await world.wait_for_messages(group.id, count, timeout=3.0)
    assert lookups(12) == 1 and lookups(13) == 1
    assert lookups(11) == 2  # the oldest entry was evicted when user 13 came along
