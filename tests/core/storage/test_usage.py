"""Usage ledger totals."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.events import Usage
from core.storage import NewMessage, Store, UsageRecord


async def _turn(store: Store, turn_id: str, record: UsageRecord) -> None:
    conversation_id = await store.current_conversation(f"{record.platform}:{record.chat_id}")
    await store.save_turn(conversation_id, turn_id, [NewMessage("user", "hi")], record)


async def test_usage_totals_filter_by_platform_user_and_time(store: Store) -> None:
    started = datetime.now(UTC)
    await _turn(store, "t1", UsageRecord("telegram", "1", "alice", "m", Usage(10, 5), cost=0.25))
    await _turn(
        store, "t2", UsageRecord("telegram", "2", "alice", "m", Usage(20, 10, estimated=True))
    )
    await _turn(store, "t3", UsageRecord("telegram", "1", "bob", "m", Usage(1, 1)))
    await _turn(store, "t4", UsageRecord("discord", "1", "alice", "m", Usage(100, 100)))

    assert await store.usage_totals(platform="telegram") == Usage(31, 16, estimated=True)
    assert await store.usage_totals(platform="telegram", user_id="alice") == Usage(
        30, 15, estimated=True
    )
    assert await store.usage_totals(platform="telegram", user_id="bob") == Usage(1, 1)
    assert await store.usage_totals(platform="discord") == Usage(100, 100)
    assert await store.usage_totals(platform="telegram", since=started) == Usage(31, 16, True)
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert await store.usage_totals(platform="telegram", since=later) == Usage()
    assert await store.usage_totals(platform="slack") == Usage()


async def test_save_turn_without_usage_writes_no_ledger_row(store: Store) -> None:
    conversation_id = await store.current_conversation("telegram:1")
    await store.save_turn(conversation_id, "t1", [NewMessage("user", "hi")], None)
    assert await store.usage_totals(platform="telegram") == Usage()


async def test_ledger_only_turn(store: Store) -> None:
    conversation_id = await store.current_conversation("telegram:1")
    record = UsageRecord("telegram", "1", "alice", "img-model", Usage(0, 0), kind="image")
    assert await store.save_turn(conversation_id, "t1", [], record) == []
    assert await store.count_messages(conversation_id) == 0


async def test_ledger_rows_without_a_turn_and_kind_outcome_filters(store: Store) -> None:
    await store.record_usage("call-1", UsageRecord("telegram", "1", "alice", "gpt", Usage(10, 5),
                                                   outcome="ok", cost=0.01))
    await store.record_usage("call-2", UsageRecord("telegram", "1", "alice", "gpt", Usage(7, 2,
                                                   estimated=True), outcome="cancelled"))
    await store.record_usage("call-3", UsageRecord("telegram", "1", "alice", "dall-e-3",
                                                   Usage(), kind="image", units=2, unit="images"))
    assert await store.usage_totals(platform="telegram") == Usage(17, 7, estimated=True)
    assert await store.usage_totals(platform="telegram", outcome="ok") == Usage(10, 5)
    assert await store.usage_totals(platform="telegram", outcome="cancelled") == Usage(7, 2, True)
    assert await store.usage_totals(platform="telegram", kind="image") == Usage()
    assert await store.usage_totals(platform="telegram", kind="chat", outcome="ok") == Usage(10, 5)
    conversation_id = await store.current_conversation("telegram:1")
    assert await store.count_messages(conversation_id) == 0  # a ledger row is not a message


def _call(turn: str, prompt: int) -> tuple[str, UsageRecord]:
    return turn, UsageRecord("telegram", "1", "alice", "gpt", Usage(prompt, 1))


async def test_rows_recorded_in_a_turn_block_commit_with_its_messages(store: Store) -> None:
    """Two calls of a turn, then its save → ONE transaction holds messages and both rows."""
    conversation_id = await store.current_conversation("telegram:1")
    writer = store._conversations.writer
    before = writer.batches
    async with store.turn_usage():
        await store.record_usage(*_call("t1", 10))
        await store.record_usage(*_call("t1", 20))
        assert await store.usage_totals(platform="telegram") == Usage()  # held, not written
        await store.save_turn(conversation_id, "t1", [NewMessage("user", "hi")], None)
    assert writer.batches - before == 1
    assert await store.usage_totals(platform="telegram") == Usage(30, 2)
    assert await store.count_messages(conversation_id) == 1


async def test_rows_of_a_turn_that_stored_nothing_are_written_when_it_ends(
        store: Store) -> None:
    """The save fails (unknown conversation) → nothing of the turn, but its calls' rows."""
    async with store.turn_usage():
        await store.record_usage(*_call("t1", 10))
        with pytest.raises(sa.exc.IntegrityError):
            await store.save_turn(999_999, "t1", [NewMessage("user", "hi")], None)
    assert await store.usage_totals(platform="telegram") == Usage(10, 1)


async def test_a_turn_block_left_by_cancellation_still_writes_its_rows(store: Store) -> None:
    inside = asyncio.Event()

    async def turn() -> None:
        async with store.turn_usage():
            await store.record_usage(*_call("t1", 7))
            inside.set()
            await asyncio.Event().wait()  # the user presses Stop here

    task = asyncio.create_task(turn())
    await inside.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert await store.usage_totals(platform="telegram") == Usage(7, 1)


async def test_a_call_finishing_after_its_turn_ended_writes_its_own_row(store: Store) -> None:
    """A task started inside the block (context copied) records after the block closed:
    the row is written by itself, not held in a block nobody will save."""
    go = asyncio.Event()

    async def late_call() -> None:
        await go.wait()
        await store.record_usage(*_call("t1", 5))

    async with store.turn_usage():
        task = asyncio.create_task(late_call())
    go.set()
    await task
    assert await store.usage_totals(platform="telegram") == Usage(5, 1)
