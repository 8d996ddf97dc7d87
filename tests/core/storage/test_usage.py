"""Usage ledger totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
