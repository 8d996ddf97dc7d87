"""A chat that changes id (Telegram group → supergroup) keeps persona, model, modes,
history, per-user and topic conversations, usage, buttons and Midjourney tasks, also
what a turn running during the move stores: ``ChatCore.migrate_chat``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa

from core.app import ChatCore
from core.conversation.inputs import UserMessage
from core.conversation.keys import Actor, ChatRef
from core.events import TextDelta, TurnFinal, TurnStarted, Usage
from core.parts import ActionRows
from core.storage import Store, UsageRecord
from core.storage.mj_tasks_repo import MjTaskRow
from core.storage.schema import usage_ledger
from tests.core.conftest import ANN, BOB, say
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_replies import SlowFirstToken, length

OLD = ChatRef("test", "-4518810793")
NEW = ChatRef("test", "-1002471352452")
ADMIN = Actor("test", "9", "Ada", "en", is_chat_admin=True)


def prompt_texts(fake_gateway: FakeGateway) -> list[str]:
    return [str(m["content"]) for m in fake_gateway.chat_requests()[-1]["messages"]]


async def usage_chats(core: ChatCore) -> list[str]:
    async with core.store._db.engine.connect() as connection:  # test-only peek
        rows = await connection.execute(sa.select(usage_ledger.c.chat_id))
        return [row[0] for row in rows]


async def test_everything_of_the_old_chat_answers_under_the_new_id(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    await core.run_command("persona", {"text": "You are a pirate.", "scope": "chat"}, OLD,
                           ADMIN)
    await core.run_command_text("/model glm-4 chat", OLD, ADMIN)
    await core.run_command_text("/mode reply:all", OLD, ADMIN)
    await core.run_command_text("/model qwen-turbo", OLD, BOB)  # user-in-chat scope
    await say(core, "my ship is the Black Pearl", chat=OLD, actor=ANN)
    assert (await core.chat_options(NEW)).reply_mode == "mention"  # cached before the move

    assert await core.migrate_chat("test", OLD.chat_id, NEW.chat_id) is True

    assert (await core.chat_options(NEW)).reply_mode == "all"
    await say(core, "what is my ship?", chat=NEW, actor=ANN)
    request = fake_gateway.chat_requests()[-1]
    assert request["model"] == "glm-4"
    texts = prompt_texts(fake_gateway)
    assert any("pirate" in text for text in texts)
    assert "my ship is the Black Pearl" in texts
    assert (await core.current_model(NEW, BOB)).name == "qwen-turbo"
    assert await usage_chats(core) == [NEW.chat_id, NEW.chat_id]
    # the old id is empty now
    assert (await core.chat_options(OLD)).reply_mode == "mention"
    assert (await core.current_model(OLD, ANN)).name == "gpt-3.5-turbo"


async def test_a_second_migration_call_is_a_no_op(core: ChatCore,
                                                   fake_gateway: FakeGateway) -> None:
    await core.run_command_text("/model glm-4 chat", OLD, ADMIN)
    await say(core, "remember 41", chat=OLD, actor=ANN)
    assert await core.migrate_chat("test", OLD.chat_id, NEW.chat_id) is True
    assert await core.migrate_chat("test", OLD.chat_id, NEW.chat_id) is False
    await say(core, "and now?", chat=NEW, actor=ANN)
    assert "remember 41" in prompt_texts(fake_gateway)
    assert fake_gateway.chat_requests()[-1]["model"] == "glm-4"


async def test_per_user_topic_and_archived_conversations_move_too(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    topic_old, topic_new = ChatRef("test", OLD.chat_id, "7"), ChatRef("test", NEW.chat_id, "7")
    await core.run_command_text("/mode context:per_user", OLD, ADMIN)
    await say(core, "bob's secret is 12", chat=OLD, actor=BOB)
    await say(core, "ann's secret is 34", chat=OLD, actor=ANN)
    await say(core, "topic note 56", chat=topic_old, actor=BOB)
    await core.migrate_chat("test", OLD.chat_id, NEW.chat_id)

    await say(core, "bob again", chat=NEW, actor=BOB)
    bob_texts = prompt_texts(fake_gateway)
    assert "bob's secret is 12" in bob_texts and "ann's secret is 34" not in bob_texts
    await say(core, "topic again", chat=topic_new, actor=BOB)
    assert "topic note 56" in prompt_texts(fake_gateway)
    keys = await core.conversation_key(NEW, BOB), await core.conversation_key(topic_new, BOB)
    assert keys == (f"test:{NEW.chat_id}:u:2", f"test:{NEW.chat_id}:t:7:u:2")


async def test_a_conversation_already_started_under_the_new_id_is_merged(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    await say(core, "before the upgrade", chat=OLD, actor=ANN)
    await say(core, "right after the upgrade", chat=NEW, actor=ANN)  # raced the service msg
    await core.migrate_chat("test", OLD.chat_id, NEW.chat_id)
    await say(core, "later", chat=NEW, actor=ANN)
    texts = prompt_texts(fake_gateway)
    assert texts.index("before the upgrade") < texts.index("right after the upgrade")


async def test_only_that_chat_moves_not_chats_sharing_a_prefix(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    neighbour = ChatRef("test", OLD.chat_id + "1")
    other_platform = ChatRef("other", OLD.chat_id)
    await core.run_command_text("/model glm-4 chat", neighbour, ADMIN)
    await say(core, "neighbour talk", chat=neighbour, actor=ANN)
    await say(core, "other platform talk", chat=other_platform, actor=ANN)
    assert await core.migrate_chat("test", OLD.chat_id, NEW.chat_id) is False
    await say(core, "still here?", chat=neighbour, actor=ANN)
    assert "neighbour talk" in prompt_texts(fake_gateway)
    assert fake_gateway.chat_requests()[-1]["model"] == "glm-4"
    await say(core, "me too?", chat=other_platform, actor=ANN)
    assert "other platform talk" in prompt_texts(fake_gateway)


def action_ids(actions: ActionRows) -> list[str]:
    return [button.action_id for row in actions for button in row]


async def test_a_button_sent_before_the_upgrade_works_in_the_new_chat(core: ChatCore) -> None:
    await say(core, "hello", chat=OLD, actor=ADMIN)
    picker = await core.run_command_text("/model", OLD, ADMIN)
    assert picker is not None
    assert await core.migrate_chat("test", OLD.chat_id, NEW.chat_id) is True

    pressed = await core.run_action(action_ids(picker.actions)[0], NEW, ADMIN)

    assert pressed.reply is not None and not pressed.alert, pressed.notice


async def test_a_midjourney_task_row_moves_with_its_chat(core: ChatCore) -> None:
    await core.store.mj_tasks.upsert(MjTaskRow(id="t1", action="IMAGINE", platform="test",
                                               chat_id=OLD.chat_id, requester_id="9"))
    assert await core.migrate_chat("test", OLD.chat_id, NEW.chat_id) is True
    row = await core.store.mj_tasks.get("t1")
    assert row is not None and row.chat_id == NEW.chat_id
    row.progress = "40%"  # the running task's in-memory row still says the old chat
    row.chat_id = OLD.chat_id
    await core.store.mj_tasks.update([row])
    stored = await core.store.mj_tasks.get("t1")
    assert stored is not None and (stored.chat_id, stored.progress) == (NEW.chat_id, "40%")


async def test_a_turn_answering_while_the_chat_moves_stores_everything_in_the_new_chat(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    fake_gateway.script(SlowFirstToken(0.5, then=length("the first part " * 10)))
    ticket = await core.submit(OLD, ADMIN, UserMessage(text="tell me the long story"))
    events = []
    async for event in ticket:
        events.append(event)
        if isinstance(event, TurnStarted):  # the answer has not started streaming yet
            await core.migrate_chat("test", OLD.chat_id, NEW.chat_id)
            assert not any(isinstance(e, TextDelta) for e in events)
    final = events[-1]
    assert isinstance(final, TurnFinal) and final.truncated

    pressed = await core.run_action(action_ids(final.actions)[0], NEW, ADMIN)  # Continue
    assert pressed.ticket is not None, pressed.notice
    assert isinstance((await pressed.ticket.wait()), TurnFinal)
    texts = prompt_texts(fake_gateway)
    assert "tell me the long story" in texts  # the moved turn is the new chat's history
    assert set(await usage_chats(core)) == {NEW.chat_id}


async def test_a_ledger_row_queued_before_the_move_and_committed_after_it_moves_too(
        tmp_path: Path) -> None:
    """A fresh tester's race: an /image job's ledger row was queued with the old chat id,
    then committed just after the move's transaction, so it stayed under the old id."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'race.db'}")
    lock = store._db.write_lock
    assert isinstance(lock, asyncio.Lock)
    try:
        await store.record_usage("t0", UsageRecord("test", OLD.chat_id, "9", "m", Usage(1, 1)))
        async with lock:  # the move, then the row's batch, queue on the write lock
            moving = asyncio.create_task(store.move_chat("test", OLD.chat_id, NEW.chat_id))
            await waiters(lock, 1)
            queued = asyncio.create_task(store.record_usage(
                "t1", UsageRecord("test", OLD.chat_id, "9", "m", Usage(1, 1))))
            await waiters(lock, 2)
        await moving
        await queued
        async with store._db.read() as connection:  # test-only peek
            rows = await connection.execute(sa.select(usage_ledger.c.chat_id))
            assert [row[0] for row in rows] == [NEW.chat_id, NEW.chat_id]
    finally:
        await store.close()


async def waiters(lock: asyncio.Lock, count: int) -> None:
    """Barrier: ``count`` tasks wait for ``lock`` (test-only peek at asyncio's queue)."""
    async with asyncio.timeout(5):
        while len(lock._waiters or ()) < count:
            await asyncio.sleep(0)
