"""Conversations, messages and the atomic per-turn write, on both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import pytest
import sqlalchemy as sa

from core.events import Usage
from core.storage import NewMessage, Store, UsageRecord

KEY = "telegram:100:topic:7:user:42"


def usage_record(prompt: int = 10, completion: int = 5) -> UsageRecord:
    return UsageRecord("telegram", "100", "42", "gpt-test", Usage(prompt, completion))


async def test_current_conversation_is_created_once_and_stable(store: Store) -> None:
    first = await store.current_conversation(KEY)
    assert await store.current_conversation(KEY) == first


async def test_concurrent_first_access_yields_one_conversation(store: Store) -> None:
    ids = await asyncio.gather(*(store.current_conversation(KEY) for _ in range(20)))
    assert len(set(ids)) == 1


async def test_conversations_are_isolated_by_key(store: Store) -> None:
    first = await store.current_conversation("telegram:1")
    second = await store.current_conversation("telegram:2")
    await store.save_turn(first, "t1", [NewMessage("user", "for one")], None)

    assert first != second
    assert await store.count_messages(second) == 0
    assert await store.load_recent_messages(second, limit=10) == []
    assert [m.content for m in await store.load_recent_messages(first, limit=10)] == ["for one"]


async def test_save_turn_round_trips_every_field(store: Store) -> None:
    conversation_id = await store.current_conversation(KEY)
    media = [{"kind": "image", "mime": "image/png", "sha256": "ab" * 32, "size": 123}]
    tool_calls = [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ]
    before = datetime.now(UTC)

    ids = await store.save_turn(
        conversation_id,
        "turn-1",
        [
            NewMessage("user", "look", tokens=3, media=media),
            NewMessage("assistant", "", tokens=4, tool_calls=tool_calls, model="gpt-test"),
            NewMessage("tool", "result", tokens=1, name="f", tool_call_id="call_1"),
        ],
        usage_record(),
    )

    stored = await store.load_recent_messages(conversation_id, limit=10)
    assert [m.id for m in stored] == sorted(ids, reverse=True)
    tool, assistant, user = stored
    assert (user.role, user.content, user.media, user.tokens) == ("user", "look", media, 3)
    assert user.tool_calls is None and user.name is None and user.model is None
    assert assistant.tool_calls == tool_calls and assistant.model == "gpt-test"
    assert assistant.media is None
    assert (tool.name, tool.tool_call_id, tool.content) == ("f", "call_1", "result")
    for message in stored:
        assert message.turn_id == "turn-1"
        assert message.conversation_id == conversation_id
        assert message.created_at.tzinfo is not None
        assert message.created_at.utcoffset() == UTC.utcoffset(None)
        assert before <= message.created_at <= datetime.now(UTC)


async def test_save_turn_with_invalid_message_stores_nothing(store: Store) -> None:
    conversation_id = await store.current_conversation(KEY)
    turn = [
        NewMessage("user", "question"),
        NewMessage("not-a-role", "violates ck_messages_role"),
        NewMessage("assistant", "answer"),
    ]

    with pytest.raises(sa.exc.IntegrityError):
        await store.save_turn(conversation_id, "t1", turn, usage_record())

    assert await store.count_messages(conversation_id) == 0
    assert await store.usage_totals(platform="telegram") == Usage()
    # The failed write released everything: the next turn goes through.
    ids = await store.save_turn(conversation_id, "t2", [NewMessage("user", "ok")], usage_record())
    assert len(ids) == 1


async def test_save_turn_with_failing_ledger_row_stores_no_messages(store: Store) -> None:
    conversation_id = await store.current_conversation(KEY)
    broken_usage = UsageRecord("telegram", "100", "42", cast(Any, None), Usage(1, 1))

    with pytest.raises(sa.exc.IntegrityError):
        await store.save_turn(
            conversation_id,
            "t1",
            [NewMessage("user", "q"), NewMessage("assistant", "a")],
            broken_usage,
        )

    assert await store.count_messages(conversation_id) == 0


async def test_save_turn_into_missing_conversation_fails(store: Store) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        await store.save_turn(999_999, "t1", [NewMessage("user", "orphan")], None)


async def test_concurrent_save_turns_all_succeed(store: Store) -> None:
    conversation_id = await store.current_conversation(KEY)

    async def turn(number: int) -> list[int]:
        messages = [NewMessage("user", f"q{number}"), NewMessage("assistant", f"a{number}")]
        return await store.save_turn(conversation_id, f"t{number}", messages, usage_record())

    results = await asyncio.gather(*(turn(n) for n in range(50)))

    all_ids = [message_id for ids in results for message_id in ids]
    assert len(set(all_ids)) == 100
    assert all(ids[0] < ids[1] for ids in results)
    assert await store.count_messages(conversation_id) == 100
    assert (await store.usage_totals(platform="telegram")).prompt_tokens == 500


async def test_load_recent_newest_first_with_limit_and_paging(store: Store) -> None:
    conversation_id = await store.current_conversation(KEY)
    for number in range(10):
        await store.save_turn(
            conversation_id, f"t{number}", [NewMessage("user", str(number))], None
        )

    newest = await store.load_recent_messages(conversation_id, limit=4)
    assert [m.content for m in newest] == ["9", "8", "7", "6"]

    older = await store.load_recent_messages(conversation_id, limit=4, before_id=newest[-1].id)
    assert [m.content for m in older] == ["5", "4", "3", "2"]

    oldest = await store.load_recent_messages(conversation_id, limit=4, before_id=older[-1].id)
    assert [m.content for m in oldest] == ["1", "0"]
    assert await store.load_recent_messages(conversation_id, limit=4, before_id=oldest[-1].id) == []
    assert await store.load_recent_messages(conversation_id, limit=0) == []


async def test_start_new_conversation_archives_the_current_one(store: Store) -> None:
    old = await store.current_conversation(KEY)
    await store.save_turn(old, "t1", [NewMessage("user", "old topic")], None)

    new = await store.start_new_conversation(KEY)

    assert new != old
    assert await store.current_conversation(KEY) == new
    assert await store.count_messages(new) == 0
    assert await store.count_messages(old) == 1
    async with store._db.read() as connection:
        archived_at = (
            await connection.execute(
                sa.text("SELECT archived_at FROM conversations WHERE id = :id"), {"id": old}
            )
        ).scalar()
    assert archived_at is not None
    assert await store.start_new_conversation(KEY) not in (old, new)


async def test_start_new_conversation_without_current_creates_one(store: Store) -> None:
    created = await store.start_new_conversation("discord:5")
    assert await store.current_conversation("discord:5") == created


async def test_history_survives_reopen(database_url: str) -> None:
    store = await Store.open(database_url)
    conversation_id = await store.current_conversation(KEY)
    await store.save_turn(
        conversation_id,
        "t1",
        [NewMessage("user", "remember me"), NewMessage("assistant", "I will")],
        usage_record(),
    )
    await store.close()

    reopened = await Store.open(database_url)
    try:
        assert await reopened.current_conversation(KEY) == conversation_id
        history = await reopened.load_recent_messages(conversation_id, limit=10)
        assert [m.content for m in history] == ["I will", "remember me"]
        assert (await reopened.usage_totals(platform="telegram")).total_tokens == 15
    finally:
        await reopened.close()


async def test_bulk_insert_and_paging_through_a_large_conversation(store: Store) -> None:
    busy = await store.current_conversation("telegram:busy")
    quiet = await store.current_conversation("telegram:quiet")
    await store.save_turn(quiet, "t1", [NewMessage("user", "quiet")], None)
    for chunk in range(5):
        batch = [NewMessage("user", f"{chunk}-{i}", tokens=1) for i in range(2000)]
        await store.bulk_insert_messages(busy, batch)

    assert await store.count_messages(busy) == 10_000
    newest = await store.load_recent_messages(busy, limit=3)
    assert [m.content for m in newest] == ["4-1999", "4-1998", "4-1997"]
    assert all(m.turn_id == "" for m in newest)
    assert [m.content for m in await store.load_recent_messages(quiet, limit=5)] == ["quiet"]


async def test_load_recent_uses_the_conversation_id_index(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("query plan check is SQLite-specific (PG plans depend on statistics)")
    query = (
        "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE conversation_id = 1 AND id < 50 "
        "ORDER BY id DESC LIMIT 20"
    )
    async with store._db.read() as connection:
        plan = " ".join(str(row[-1]) for row in await connection.execute(sa.text(query)))
    assert "ix_messages_conversation_id_id" in plan
    assert "TEMP B-TREE" not in plan


async def test_a_conversation_this_store_opened_is_read_without_a_query(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new conversation's first turn needs no history read (bench/core_turns.py cold
    turns); once written, or after /new, or opened by another process, it reads."""
    queries: list[int] = []
    original = store._conversations.load_recent

    async def counted(conversation_id: int, **kwargs: Any) -> Any:
        queries.append(conversation_id)
        return await original(conversation_id, **kwargs)

    monkeypatch.setattr(store._conversations, "load_recent", counted)
    first = await store.current_conversation(KEY)
    assert await store.load_recent_messages(first, limit=10) == []
    assert queries == []
    await store.save_turn(first, "t1", [NewMessage("user", "hi", 1)], None)
    assert [m.content for m in await store.load_recent_messages(first, limit=10)] == ["hi"]
    assert queries == [first]
    renewed = await store.start_new_conversation(KEY)
    assert await store.load_recent_messages(renewed, limit=10) == []
    assert queries == [first]
    store._current.clear()  # like a restart: the open conversation is found, not opened
    store._empty.clear()
    assert await store.current_conversation(KEY) == renewed
    assert await store.load_recent_messages(renewed, limit=10) == []
    assert queries == [first, renewed]
