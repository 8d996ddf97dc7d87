"""The guarantees of the per-turn write, on both backends: a turn is stored whole or
not at all (a failure or a cancel mid-save leaves nothing behind and the next turn goes
through), concurrent turns of different conversations are all stored, and concurrent
first contacts for one key agree on one conversation, also across two stores."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from core.events import Usage
from core.storage import NewMessage, Store, UsageRecord
from core.storage.schema import conversations, messages, usage_ledger


def usage_record(prompt: int = 10, completion: int = 5) -> UsageRecord:
    return UsageRecord("telegram", "100", "42", "gpt-test", Usage(prompt, completion))


def turn(text: str) -> list[NewMessage]:
    return [NewMessage("user", text, tokens=2), NewMessage("assistant", f"echo: {text}", 3)]


async def history(store: Store, conversation_id: int) -> list[tuple[str, str, str]]:
    """Oldest first: (turn_id, role, content)."""
    stored = await store.load_recent_messages(conversation_id, limit=1000)
    return [(m.turn_id, m.role, m.content) for m in reversed(stored)]


async def ledger_turns(store: Store) -> list[str]:
    async with store._db.read() as connection:
        query = sa.select(usage_ledger.c.turn_id).order_by(usage_ledger.c.id)
        return list((await connection.execute(query)).scalars())


def fail_on(store: Store, table: sa.Table, error: Exception) -> Callable[[], None]:
    """Make the next INSERT into ``table`` raise ``error`` (a fault injected between
    the statements of a turn); returns the function removing the hook."""

    def before_execute(conn: Any, clauseelement: Any, *args: Any) -> None:
        if isinstance(clauseelement, sa.Insert) and clauseelement.table is table:
            raise error

    engine = store.writer.engine
    event.listen(engine, "before_execute", before_execute)
    return lambda: event.remove(engine, "before_execute", before_execute)


async def test_a_failure_after_the_messages_are_inserted_stores_nothing(store: Store) -> None:
    """user sends "first" (stored) → "second" fails while saving its usage row →
    neither its messages nor its usage are stored → "third" is stored after "first"."""
    conversation_id = await store.current_conversation("telegram:1")
    await store.save_turn(conversation_id, "t1", turn("first"), usage_record())
    remove = fail_on(store, usage_ledger, RuntimeError("disk full"))
    try:
        with pytest.raises(RuntimeError, match="disk full"):
            await store.save_turn(conversation_id, "t2", turn("second"), usage_record())
    finally:
        remove()
    await store.save_turn(conversation_id, "t3", turn("third"), usage_record())

    assert await history(store, conversation_id) == [
        ("t1", "user", "first"), ("t1", "assistant", "echo: first"),
        ("t3", "user", "third"), ("t3", "assistant", "echo: third"),
    ]
    assert await ledger_turns(store) == ["t1", "t3"]
    assert await store.usage_totals(platform="telegram") == Usage(20, 10)


async def test_a_failing_commit_stores_nothing_and_raises(store: Store) -> None:
    conversation_id = await store.current_conversation("telegram:1")
    engine = store.writer.engine

    def refuse_commit(conn: Any) -> None:
        raise RuntimeError("commit refused")

    event.listen(engine, "commit", refuse_commit)
    try:
        with pytest.raises(RuntimeError, match="commit refused"):
            await store.save_turn(conversation_id, "t1", turn("lost"), usage_record())
    finally:
        event.remove(engine, "commit", refuse_commit)

    assert await history(store, conversation_id) == []
    assert await ledger_turns(store) == []
    await store.save_turn(conversation_id, "t2", turn("kept"), None)
    assert [content for _, _, content in await history(store, conversation_id)] == [
        "kept", "echo: kept"]


async def test_cancel_while_queued_drops_the_turn_and_cancel_in_its_batch_keeps_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit (core/storage/writer.py): "t1" is in a running batch (paused before
    its usage row) and "t2" waits in the queue; both callers are cancelled. "t2" is
    dropped (nothing stored); "t1" is not interrupted: its caller gets CancelledError
    once its batch is committed, and it is stored whole. ``ConversationEngine``
    shields its saves, so a user's /cancel never gets here (test_faults.py)."""
    conversation_id = await store.current_conversation("telegram:1")
    reached, gate = asyncio.Event(), asyncio.Event()
    original = store._db.transaction

    @asynccontextmanager
    async def paused_transaction() -> AsyncIterator[Any]:
        async with original() as connection:
            yield connection  # the batch's rows are inserted: pause before COMMIT
            reached.set()
            await gate.wait()

    loop = asyncio.get_running_loop()
    thread_gate = threading.Event()

    def pause_in_batch_thread(conn: Any, clauseelement: Any, *args: Any) -> None:
        if isinstance(clauseelement, sa.Insert) and clauseelement.table is usage_ledger:
            loop.call_soon_threadsafe(reached.set)
            thread_gate.wait(5)

    in_thread = store.writer.engine is not store._db.engine.sync_engine  # SQLite file
    if in_thread:  # the batch runs on its thread: pause it there
        event.listen(store.writer.engine, "before_execute", pause_in_batch_thread)
    else:
        monkeypatch.setattr(store._db, "transaction", paused_transaction)
    first = asyncio.create_task(
        store.save_turn(conversation_id, "t1", turn("in batch"), usage_record()))
    await reached.wait()  # t1's messages are inserted, not committed
    queued = asyncio.create_task(
        store.save_turn(conversation_id, "t2", turn("queued"), usage_record()))
    async with asyncio.timeout(5):  # barrier: t2 is queued behind the running batch
        while store.writer.queued != 1:
            await asyncio.sleep(0.001)
    queued.cancel()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert not first.done()  # waits for its batch
    gate.set()
    thread_gate.set()
    with pytest.raises(asyncio.CancelledError):
        await first
    monkeypatch.setattr(store._db, "transaction", original)
    if in_thread:
        event.remove(store.writer.engine, "before_execute", pause_in_batch_thread)

    await store.save_turn(conversation_id, "t3", turn("next"), usage_record())
    assert [turn_id for turn_id, _, _ in await history(store, conversation_id)] == [
        "t1", "t1", "t3", "t3"]
    assert await ledger_turns(store) == ["t1", "t3"]


async def test_concurrent_turns_in_different_conversations_are_all_stored(store: Store) -> None:
    """40 chats send 5 messages each, all at once: every turn is stored, each chat's
    history is its own, in order, and every usage row is counted."""
    chats = [f"telegram:{n}" for n in range(40)]

    async def chat(key: str) -> tuple[int, list[list[int]]]:
        conversation_id = await store.current_conversation(key)
        saved = [
            await store.save_turn(conversation_id, f"{key}/{n}", turn(f"{key} q{n}"),
                                  usage_record())
            for n in range(5)
        ]
        return conversation_id, saved

    results = await asyncio.gather(*(chat(key) for key in chats))

    assert len({conversation_id for conversation_id, _ in results}) == 40
    for key, (conversation_id, saved) in zip(chats, results, strict=True):
        ids = [message_id for pair in saved for message_id in pair]
        assert ids == sorted(ids)
        stored = await history(store, conversation_id)
        assert [content for _, role, content in stored if role == "user"] == [
            f"{key} q{n}" for n in range(5)]
    assert await store.usage_totals(platform="telegram") == Usage(40 * 5 * 10, 40 * 5 * 5)


async def test_two_stores_on_one_database_agree_on_the_current_conversation(
    database_url: str,
) -> None:
    """Two processes (here two stores) see a new key at once: one open conversation.
    (Each caches it: a key must be routed to one process, see ``Store``.)"""
    first, second = await Store.open(database_url), await Store.open(database_url)
    try:
        ids = await asyncio.gather(*(
            store.current_conversation(f"shared:{n}")
            for n in range(10) for store in (first, second)
        ))
        assert [ids[i] == ids[i + 1] for i in range(0, 20, 2)] == [True] * 10
        async with first._db.read() as connection:
            query = sa.select(sa.func.count()).select_from(conversations)
            assert await connection.scalar(query) == 10
        newer = await second.start_new_conversation("shared:0")
    finally:
        await first.close()
        await second.close()
    restarted = await Store.open(database_url)
    try:
        assert await restarted.current_conversation("shared:0") == newer != ids[0]
    finally:
        await restarted.close()


async def test_store_transaction_commits_whole_or_rolls_back(store: Store) -> None:
    """The public transaction (used to move a chat's rows) is all or nothing too."""
    conversation_id = await store.current_conversation("telegram:1")
    await store.save_turn(conversation_id, "t1", turn("hello"), None)
    moved = sa.update(conversations).where(conversations.c.id == conversation_id)

    with pytest.raises(RuntimeError, match="midway"):
        async with store.transaction() as connection:
            await connection.execute(moved.values(key="telegram:2"))
            raise RuntimeError("midway")
    assert await store.current_conversation("telegram:1") == conversation_id

    async with store.transaction() as connection:
        await connection.execute(moved.values(key="telegram:2"))
        count = sa.select(sa.func.count()).select_from(messages)
        assert await connection.scalar(count) == 2
    assert await store.current_conversation("telegram:2") == conversation_id
    assert await store.current_conversation("telegram:1") != conversation_id


async def test_current_conversation_is_cached_until_start_new(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await store.current_conversation("telegram:1")
    lookups: list[str] = []
    original = store._conversations.current

    async def counting(key: str) -> tuple[int, bool]:
        lookups.append(key)
        return await original(key)

    monkeypatch.setattr(store._conversations, "current", counting)
    assert [await store.current_conversation("telegram:1") for _ in range(3)] == [first] * 3
    assert lookups == []
    new = await store.start_new_conversation("telegram:1")
    assert new != first and await store.current_conversation("telegram:1") == new
    assert await store.current_conversation("telegram:2") not in (first, new)
    assert lookups == ["telegram:2"]


async def test_start_new_finishing_during_a_lookup_wins(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/new is handled while a message's lookup of the old conversation is in flight:
    afterwards the key's current conversation is the new one, in the cache too."""
    old = await store.current_conversation("k")
    store._current.clear()  # cold cache, the conversation exists
    reached, gate = asyncio.Event(), asyncio.Event()
    original = store._conversations.current

    async def slow(key: str) -> tuple[int, bool]:
        found = await original(key)
        reached.set()
        await gate.wait()
        return found

    monkeypatch.setattr(store._conversations, "current", slow)
    lookup = asyncio.create_task(store.current_conversation("k"))
    await reached.wait()  # it has read the old id
    monkeypatch.setattr(store._conversations, "current", original)
    created = await store.start_new_conversation("k")
    gate.set()
    assert await lookup == created != old
    assert await store.current_conversation("k") == created
