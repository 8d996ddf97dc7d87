"""Group commit (core/storage/writer.py), on both backends: turns saved at once share
one transaction, yet each is atomic on its own — a failing turn in a batch stores
nothing of itself and does not fail the others."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from core.events import Usage
from core.storage import NewMessage, Store, UsageRecord
from tests.core.storage.test_turns import history, ledger_turns, turn, usage_record


async def test_turns_saved_at_once_share_one_transaction(store: Store) -> None:
    """20 chats finish a turn at the same moment → one batch (one transaction) →
    every turn stored with its own ids."""
    writer = store._conversations.writer
    ids = [await store.current_conversation(f"telegram:{n}") for n in range(20)]
    before = writer.batches
    saved = await asyncio.gather(*(
        store.save_turn(cid, f"t{n}", turn(f"q{n}"), usage_record())
        for n, cid in enumerate(ids)))
    assert writer.batches - before == 1
    for n, (cid, message_ids) in enumerate(zip(ids, saved, strict=True)):
        stored = await store.load_recent_messages(cid, limit=10)
        assert [m.id for m in reversed(stored)] == message_ids
        assert [m.content for m in reversed(stored)] == [f"q{n}", f"echo: q{n}"]
    assert await store.usage_totals(platform="telegram") == Usage(20 * 10, 20 * 5)


async def test_a_failing_turn_in_a_batch_loses_only_itself(store: Store) -> None:
    """Five turns in one batch, the third with an invalid role: it fails with the
    database's error and stores nothing (neither messages nor usage); the four others
    are stored, with their usage rows."""
    ids = [await store.current_conversation(f"telegram:{n}") for n in range(5)]

    def messages_for(n: int) -> list[NewMessage]:
        return [NewMessage("user", "bad", 1), NewMessage("robot", "x", 1)] if n == 2 else \
            turn(f"q{n}")

    results = await asyncio.gather(*(
        store.save_turn(cid, f"t{n}", messages_for(n), usage_record())
        for n, cid in enumerate(ids)), return_exceptions=True)

    assert isinstance(results[2], sa.exc.IntegrityError)
    assert [isinstance(r, list) for r in results] == [True, True, False, True, True]
    assert await history(store, ids[2]) == []
    assert await history(store, ids[4]) == [("t4", "user", "q4"), ("t4", "assistant", "echo: q4")]
    assert sorted(await ledger_turns(store)) == ["t0", "t1", "t3", "t4"]


async def test_a_failing_batch_commit_retries_each_turn_alone(store: Store) -> None:
    """Four turns at once → one batch; its COMMIT fails once → the four turns are
    retried one transaction each and all stored."""
    ids = [await store.current_conversation(f"telegram:{n}") for n in range(4)]
    writer = store._conversations.writer
    engine = store.writer.engine
    commits: list[int] = []

    def refuse_first_commit(conn: Any) -> None:
        commits.append(1)
        if len(commits) == 1:
            raise RuntimeError("commit refused")

    before = writer.batches
    event.listen(engine, "commit", refuse_first_commit)
    try:
        saved = await asyncio.gather(*(
            store.save_turn(cid, f"t{n}", turn(f"q{n}"), None) for n, cid in enumerate(ids)))
    finally:
        event.remove(engine, "commit", refuse_first_commit)
    assert writer.batches - before == 1 + 4
    assert all(len(pair) == 2 for pair in saved)
    for n, cid in enumerate(ids):
        assert await history(store, cid) == [
            (f"t{n}", "user", f"q{n}"), (f"t{n}", "assistant", f"echo: q{n}")]


async def test_a_bad_ledger_row_in_a_batch_fails_alone(store: Store) -> None:
    """A usage row without a platform (NOT NULL) queued with a turn and a good usage
    row: only it fails; the turn and the good row are stored."""
    cid = await store.current_conversation("telegram:1")
    bad = UsageRecord(None, "1", "u", "gpt", Usage(1, 1))  # type: ignore[arg-type]
    results = await asyncio.gather(
        store.save_turn(cid, "t0", turn("first"), None),
        store.record_usage("call-1", usage_record()),
        store.save_turn(cid, "t1", turn("q"), None),
        store.record_usage("call-2", bad),
        return_exceptions=True)
    assert results[1] is None and isinstance(results[2], list)
    assert isinstance(results[3], sa.exc.IntegrityError)
    assert await ledger_turns(store) == ["call-1"]
    assert [t for t, _, _ in await history(store, cid)] == ["t0", "t0", "t1", "t1"]
