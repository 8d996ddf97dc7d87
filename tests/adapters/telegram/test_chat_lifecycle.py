"""Chats that change: a group upgraded to a supergroup (new id), a user who blocks the
bot, a group that removes it."""

from __future__ import annotations

import logging

import pytest

from tests.adapters.telegram.conftest import TelegramWorld
from tests.fakes.gateway_replies import Text, length
from tests.fakes.telegram import FakeChat, FakeTelegram
from tests.fakes.telegram_models import SentMessage

OLD_GROUP = -4518810793
SUPERGROUP = -1002471352452
ADMIN = 7


def ask(tg: FakeTelegram, chat: FakeChat, user_id: int, text: str) -> None:
    """The user writes ``text`` (mentioning the bot in a group)."""
    if chat.is_private:
        tg.user_sends(chat, user_id, text)
    else:
        mention, entities = tg.mention_text(text)
        tg.user_sends(chat, user_id, mention, entities=entities)


def queued_messages(world: TelegramWorld) -> int:
    """Messages waiting behind a running turn (test-only peek into the scheduler)."""
    return sum(len(lane.pending) for lane in world.core.scheduler._lanes.values())


def calls_to(tg: FakeTelegram, chat_id: int, after: int = 0) -> list[str]:
    """Methods called for ``chat_id`` from call number ``after`` on."""
    return [call.method for call in tg.calls[after:] if call.params.get("chat_id") == chat_id]


def first_refusal(tg: FakeTelegram, chat_id: int) -> int:
    """Index of the first call for ``chat_id`` the fake refused with 403/400."""
    return next(index for index, call in enumerate(tg.calls)
                if call.params.get("chat_id") == chat_id and call.status in (400, 403))


async def setup_old_group(world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(OLD_GROUP, admins={ADMIN}, basic=True)
    tg.command(group, ADMIN, "/persona You are a pirate. scope:chat")
    await world.wait_for_messages(OLD_GROUP, 1)
    tg.command(group, ADMIN, "/model glm-4 chat")
    await world.wait_for_messages(OLD_GROUP, 2)
    tg.command(group, ADMIN, "/mode reply:all")
    await world.wait_for_messages(OLD_GROUP, 3)
    tg.user_sends(group, ADMIN, "my ship is the Black Pearl")
    await world.wait_final(OLD_GROUP, "echo: my ship is the Black Pearl")


async def test_a_group_upgraded_to_a_supergroup_keeps_persona_model_mode_and_history(
        world: TelegramWorld) -> None:
    tg = world.tg
    await setup_old_group(world)
    supergroup = tg.migrate_group(OLD_GROUP, SUPERGROUP)
    tg.user_sends(supergroup, ADMIN, "what is my ship?")  # unaddressed: reply mode "all"

    await world.wait_final(SUPERGROUP, "echo: what is my ship?")
    request = world.gateway.chat_requests()[-1]
    assert request["model"] == "glm-4"
    system, *rest = request["messages"]
    assert system["role"] == "system" and "You are a pirate." in system["content"]
    assert [m["content"] for m in rest] == ["my ship is the Black Pearl",
                                            "echo: my ship is the Black Pearl",
                                            "what is my ship?"]
    assert await world.core.migrate_chat("telegram", str(OLD_GROUP), str(SUPERGROUP)) is False


async def test_an_answer_to_a_group_upgraded_mid_answer_is_delivered_in_the_supergroup(
        world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(OLD_GROUP, admins={ADMIN}, basic=True)
    tg.command(group, ADMIN, "/model glm-4 chat")
    await world.wait_for_messages(OLD_GROUP, 1)
    world.gateway.script(Text("arr " * 40, chunk_size=4, delay=0.02))
    ask(tg, group, ADMIN, "sing")
    await tg.wait_until(lambda: world.gateway.chat_requests())
    group.migrated_to = SUPERGROUP  # upgraded; the service messages are not fetched yet
    tg.group_chat(SUPERGROUP, admins={ADMIN})

    [answer] = await world.wait_final(SUPERGROUP, ("arr " * 40).strip())
    assert answer.text == ("arr " * 40).strip()
    refused = [c for c in tg.calls if c.params.get("chat_id") == OLD_GROUP and c.status == 400]
    assert len(refused) == 1, "after the first 400 every call goes to the new id"
    ask(tg, tg.chats[SUPERGROUP], ADMIN, "which model?")
    await world.wait_final(SUPERGROUP, "echo: which model?")
    assert world.gateway.chat_requests()[-1]["model"] == "glm-4"


async def test_the_continue_button_of_an_answer_cut_during_the_upgrade_works_there(
        world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(OLD_GROUP, admins={ADMIN}, basic=True)
    world.gateway.script(length("arr " * 40, chunk_size=4))
    ask(tg, group, ADMIN, "sing")
    await tg.wait_until(lambda: world.gateway.chat_requests())
    group.migrated_to = SUPERGROUP
    supergroup = tg.group_chat(SUPERGROUP, admins={ADMIN})

    def with_button() -> list[SentMessage]:
        return [m for m in tg.bot_messages(SUPERGROUP)
                if m.reply_markup and m.reply_markup.get("inline_keyboard")]

    [message] = await tg.wait_until(with_button)
    continue_data = message.reply_markup["inline_keyboard"][0][0]["callback_data"]
    tg.press_button(supergroup, ADMIN, message.message_id, continue_data)
    await tg.wait_until(lambda: len(world.gateway.chat_requests()) == 2)
    assert "arr" in str(world.gateway.chat_requests()[-1]["messages"])  # the cut answer


@pytest.mark.parametrize(("status", "description", "private"), [
    (403, "Forbidden: bot was blocked by the user", True),
    (403, "Forbidden: user is deactivated", True),
    (403, "Forbidden: bot was kicked from the supergroup chat", False),
    (400, "Bad Request: chat not found", False),
])
async def test_a_chat_that_refuses_the_bot_stops_the_turn_at_the_first_error(
        world: TelegramWorld, caplog: pytest.LogCaptureFixture, status: int,
        description: str, private: bool) -> None:
    tg = world.tg
    chat = tg.private_chat(42) if private else tg.group_chat(-100555)
    world.gateway.script(Text("story " * 400, chunk_size=6, delay=0.02))  # ~8 s
    ask(tg, chat, 42, "tell me a long story")
    await tg.wait_until(lambda: world.gateway.chat_requests())
    ask(tg, chat, 42, "and another one")
    await tg.wait_until(lambda: queued_messages(world) == 1 and calls_to(tg, chat.id))
    caplog.set_level(logging.INFO)
    tg.refuse(chat, status, description)

    await tg.wait_until(lambda: world.core.scheduler.active_conversations == 0, timeout=3.0,
                        message="the turn kept running after the chat refused the bot")
    after = [c for c in tg.calls[first_refusal(tg, chat.id) + 1:]
             if c.params.get("chat_id") == chat.id]
    # Only a call already in flight when the first refusal came back (the queued
    # message's presenter sends "typing" concurrently) may follow it, refused as well.
    assert len(after) <= 1 and all(c.status == status for c in after), tg.dump()
    assert len(world.gateway.chat_requests()) == 1, "the queued message was cancelled too"
    await tg.wait_until(lambda: world.gateway.client_disconnects == 1)
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    assert [r.levelname for r in caplog.records if "unreachable" in r.getMessage()] == ["INFO"]
    # the user unblocks the bot and writes again: answered
    chat.refusal = None
    ask(tg, chat, 42, "are you back?")
    await world.wait_final(chat.id, "echo: are you back?")


async def test_being_removed_from_a_group_cancels_its_work(world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(-100777)
    world.gateway.script(Text("story " * 400, chunk_size=6, delay=0.02))
    ask(tg, group, 42, "tell me a long story")
    await tg.wait_until(lambda: world.gateway.chat_requests())
    before = len(tg.calls)
    tg.bot_status_changed(group, "kicked")

    await tg.wait_until(lambda: world.core.scheduler.active_conversations == 0, timeout=3.0)
    await tg.wait_until(lambda: world.gateway.client_disconnects == 1)
    assert [c for c in tg.calls[before:] if c.params.get("chat_id") == group.id
            and c.status == 200] == []
    tg.bot_status_changed(group, "member")
    ask(tg, group, 42, "hello again")
    await world.wait_final(group.id, "echo: hello again")
