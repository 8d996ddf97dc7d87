"""Group commit of concurrent ``save_turn`` calls, on both backends."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import pytest
import sqlalchemy as sa

from core.events import Usage
from core.storage import NewMessage, Store, UsageRecord
from core.storage import turn_writer as turn_writer_module
from core.storage.turn_writer import TurnWriter

BAD = NewMessage("not-a-role", "violates ck_messages_role")


def usage_record(prompt: int = 10) -> UsageRecord:
    return UsageRecord("telegram", "100", "42", "gpt-test", Usage(prompt, 1))


def record_batches(monkeypatch: pytest.MonkeyPatch, method: str) -> list[int]:
    """Sizes of the batches passed to ``TurnWriter.<method>``."""
    sizes: list[int] = []
    original = cast(Callable[[TurnWriter, list[Any]], Awaitable[None]], getattr(TurnWriter, method))

    async def spy(self: TurnWriter, batch: list[Any]) -> None:
        sizes.append(len(batch))
        await original(self, batch)

    monkeypatch.setattr(TurnWriter, method, spy)
    return sizes


async def stored_rows(store: Store) -> list[tuple[int, int, str, str]]:
    """(id, conversation_id, turn_id, content) of every message, by id."""
    async with store._db.read() as connection:
        query = "SELECT id, conversation_id, turn_id, content FROM messages ORDER BY id"
        rows = (await connection.execute(sa.text(query))).all()
    return [(int(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in rows]


async def test_concurrent_turns_share_transactions_and_get_their_own_ids(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = record_batches(monkeypatch, "_write_together")
    conversations = [await store.current_conversation(f"telegram:{n}") for n in range(8)]

    def turn_messages(number: int) -> list[NewMessage]:
        # 0 to 3 messages per turn, so the id slices have different lengths.
        return [NewMessage("user", f"m{number}-{i}") for i in range(number % 4)]

    async def turn(number: int) -> list[int]:
        conversation_id = conversations[number % len(conversations)]
        return await store.save_turn(
            conversation_id, f"t{number}", turn_messages(number), usage_record(1)
        )

    results = await asyncio.gather(*(turn(n) for n in range(200)))

    assert max(batches) > 1, "concurrent turns were not batched"
    rows = {row[0]: row for row in await stored_rows(store)}
    assert len(rows) == sum(len(turn_messages(n)) for n in range(200))
    for number, ids in enumerate(results):
        expected = [
            (conversations[number % len(conversations)], f"t{number}", m.content)
            for m in turn_messages(number)
        ]
        assert [rows[message_id][1:] for message_id in ids] == expected
    for conversation_id in conversations:
        # Within a conversation, ids follow the order the turns were saved in.
        contents = [row[3] for row in rows.values() if row[1] == conversation_id]
        turn_numbers = [int(content[1:].split("-")[0]) for content in contents]
        assert turn_numbers == sorted(turn_numbers)
    assert (await store.usage_totals(platform="telegram")).prompt_tokens == 200


@pytest.mark.parametrize("bad_position", [0, 17, 39])
async def test_a_bad_turn_in_a_batch_fails_alone(
    store: Store, monkeypatch: pytest.MonkeyPatch, bad_position: int
) -> None:
    isolated = record_batches(monkeypatch, "_write_isolated")
    conversation_id = await store.current_conversation("telegram:1")

    async def turn(number: int) -> list[int]:
        messages = [NewMessage("user", f"q{number}"), NewMessage("assistant", f"a{number}")]
        if number == bad_position:
            messages.insert(1, BAD)
        return await store.save_turn(conversation_id, f"t{number}", messages, usage_record())

    results = await asyncio.gather(*(turn(n) for n in range(40)), return_exceptions=True)

    assert isolated and isolated[0] > 1, "the bad turn was not part of a batch"
    assert isinstance(results[bad_position], sa.exc.IntegrityError)
    good = [result for n, result in enumerate(results) if n != bad_position]
    assert all(isinstance(ids, list) and len(ids) == 2 for ids in good)
    rows = await stored_rows(store)
    assert len(rows) == 78
    assert f"t{bad_position}" not in {row[2] for row in rows}
    assert (await store.usage_totals(platform="telegram")).prompt_tokens == 390
    by_id = {row[0]: row[3] for row in rows}
    for number, ids in enumerate(results):
        if number != bad_position:
            assert [by_id[message_id] for message_id in cast(list[int], ids)] == [
                f"q{number}",
                f"a{number}",
            ]


async def test_a_failing_ledger_row_in_a_batch_fails_only_its_turn(store: Store) -> None:
    conversation_id = await store.current_conversation("telegram:1")
    broken = UsageRecord("telegram", "100", "42", cast(Any, None), Usage(1, 1))

    async def turn(number: int) -> list[int]:
        usage = broken if number == 5 else usage_record()
        return await store.save_turn(
            conversation_id, f"t{number}", [NewMessage("user", "q")], usage
        )

    results = await asyncio.gather(*(turn(n) for n in range(10)), return_exceptions=True)

    assert isinstance(results[5], sa.exc.IntegrityError)
    assert await store.count_messages(conversation_id) == 9
    assert (await store.usage_totals(platform="telegram")).prompt_tokens == 90


async def test_batches_are_capped(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(turn_writer_module, "MAX_BATCH_TURNS", 16)
    batches = record_batches(monkeypatch, "_write_together")
    conversation_id = await store.current_conversation("telegram:1")

    await asyncio.gather(
        *(
            store.save_turn(conversation_id, f"t{n}", [NewMessage("user", "q")], None)
            for n in range(50)
        )
    )

    assert max(batches) == 16 and sum(batches) == 50
    assert await store.count_messages(conversation_id) == 50


async def test_close_completes_pending_writes(database_url: str) -> None:
    store = await Store.open(database_url)
    conversation_id = await store.current_conversation("telegram:1")
    pending = [
        asyncio.create_task(
            store.save_turn(conversation_id, f"t{n}", [NewMessage("user", str(n))], usage_record())
        )
        for n in range(100)
    ]
    await asyncio.sleep(0)  # let every call queue its turn

    await store.close()

    assert all(task.done() for task in pending)
    ids = [message_id for task in pending for message_id in task.result()]
    reopened = await Store.open(database_url)
    try:
        assert await reopened.count_messages(conversation_id) == 100
        assert sorted(row[0] for row in await stored_rows(reopened)) == sorted(ids)
        assert (await reopened.usage_totals(platform="telegram")).prompt_tokens == 1000
    finally:
        await reopened.close()


async def test_a_cancelled_caller_still_gets_its_turn_written(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    conversation_id = await store.current_conversation("telegram:1")
    bad = {3, 4}  # 4 is also cancelled: its error must not be logged as unretrieved

    def turn(n: int) -> list[NewMessage]:
        return [BAD if n in bad else NewMessage("user", str(n))]

    queued = [
        asyncio.create_task(store.save_turn(conversation_id, f"t{n}", turn(n), None))
        for n in range(10)
    ]
    await asyncio.sleep(0)  # every call has queued its turn
    cancelled, waited = queued[::2], queued[1::2]
    for task in cancelled:
        task.cancel()

    ids = await store.save_turn(conversation_id, "after", [NewMessage("user", "after")], None)

    assert all(task.cancelled() for task in cancelled)
    assert isinstance(queued[3].exception(), sa.exc.IntegrityError)
    assert all(len(task.result()) == 1 for task in waited if task is not queued[3])
    rows = await stored_rows(store)
    assert [row[2] for row in rows] == [f"t{n}" for n in range(10) if n not in bad] + ["after"]
    assert ids == [rows[-1][0]]
    del queued, cancelled
    gc.collect()
    assert "never retrieved" not in caplog.text


async def test_lone_turns_and_empty_turns(store: Store) -> None:
    conversation_id = await store.current_conversation("telegram:1")
    assert await store.save_turn(conversation_id, "t0", [], None) == []
    first = await store.save_turn(conversation_id, "t1", [NewMessage("user", "a")], None)
    second = await store.save_turn(conversation_id, "t2", [NewMessage("user", "b")], None)
    assert first[0] < second[0]
    with pytest.raises(sa.exc.IntegrityError):
        await store.save_turn(conversation_id, "t3", [BAD], None)
    assert await store.count_messages(conversation_id) == 2


async def test_current_conversation_is_cached_until_start_new(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await store.current_conversation("telegram:1")
    lookups = 0
    original = store._conversations.find_current

    async def counting(keys: Sequence[str]) -> dict[str, int]:
        nonlocal lookups
        lookups += 1
        return await original(keys)

    monkeypatch.setattr(store._conversations, "find_current", counting)
    assert [await store.current_conversation("telegram:1") for _ in range(3)] == [first] * 3
    assert lookups == 0

    new = await store.start_new_conversation("telegram:1")
    assert new != first
    assert await store.current_conversation("telegram:1") == new
    assert lookups == 0
    assert await store.current_conversation("telegram:2") != new
    assert lookups == 1
