"""Cold bursts: coalesced current_conversation and get_settings, on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa

from core.storage import ScopeKey, Store
from core.storage.schema import conversations, utc_now


class Counting:
    """Wraps an async repository method, counting calls and the keys they carried."""

    def __init__(self, original: Any, *, gate: asyncio.Event | None = None) -> None:
        self.original = original
        self.calls: list[list[Any]] = []
        self.gate = gate

    async def __call__(self, keys: Sequence[Any]) -> Any:
        self.calls.append(list(keys))
        if self.gate is not None:
            await self.gate.wait()
        return await self.original(keys)


async def open_rows(store: Store) -> list[tuple[str, int]]:
    async with store._db.read() as connection:
        query = sa.select(conversations.c.key, conversations.c.id).where(
            conversations.c.archived_at.is_(None)
        )
        return [(key, int(ident)) for key, ident in (await connection.execute(query)).all()]


async def all_ids(store: Store, key: str) -> set[int]:
    async with store._db.read() as connection:
        query = sa.select(conversations.c.id).where(conversations.c.key == key)
        return {int(ident) for ident in (await connection.execute(query)).scalars()}


async def test_cold_burst_of_200_keys_opens_one_conversation_each_in_few_statements(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [f"telegram:{index}" for index in range(200)]
    existing = await store.current_conversation(keys[0])  # some keys already exist
    store._current._current.clear()
    lookups = Counting(store._conversations.find_current)
    monkeypatch.setattr(store._conversations, "find_current", lookups)
    opens: list[list[str]] = []
    original_open = store._conversations.open_many

    def counting_open(connection: Any, batch: Sequence[str], now: Any) -> dict[str, int]:
        opens.append(list(batch))
        return original_open(connection, batch, now)

    monkeypatch.setattr(store._conversations, "open_many", counting_open)

    # Every key requested three times at once.
    ids = await asyncio.gather(*(store.current_conversation(key) for key in keys * 3))

    by_key: dict[str, set[int]] = {}
    for key, conversation_id in zip(keys * 3, ids, strict=True):
        by_key.setdefault(key, set()).add(conversation_id)
    assert all(len(found) == 1 for found in by_key.values())
    assert by_key[keys[0]] == {existing}
    rows = await open_rows(store)
    assert sorted(rows) == sorted((key, found.pop()) for key, found in by_key.items())
    assert len(lookups.calls) == 1 and sorted(lookups.calls[0]) == sorted(keys)
    assert len(opens) == 1 and sorted(opens[0]) == sorted(keys[1:])
    # Cached afterwards.
    assert await store.current_conversation(keys[5]) == ids[5]
    assert len(lookups.calls) == 1


async def test_lookups_arriving_during_a_batch_wait_for_the_next_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()
    lookups = Counting(store._conversations.find_current, gate=gate)
    monkeypatch.setattr(store._conversations, "find_current", lookups)
    first = asyncio.ensure_future(store.current_conversation("k:0"))
    await asyncio.sleep(0.01)
    later = [asyncio.ensure_future(store.current_conversation(f"k:{i}")) for i in range(1, 50)]
    again = asyncio.ensure_future(store.current_conversation("k:0"))  # shares the first
    await asyncio.sleep(0.01)
    assert lookups.calls == [["k:0"]]
    gate.set()
    ids = await asyncio.gather(first, *later, again)
    assert lookups.calls[1] == [f"k:{i}" for i in range(1, 50)] and len(lookups.calls) == 2
    assert ids[0] == ids[-1] and len(set(ids)) == 50


async def test_start_new_racing_with_lookups_leaves_one_open_conversation(store: Store) -> None:
    old = await store.current_conversation("race:old")
    store._current._current.clear()  # cold cache, conversation exists
    for key in ("race:old", "race:new"):
        tasks = [asyncio.ensure_future(store.current_conversation(key)) for _ in range(10)]
        started = asyncio.ensure_future(store.start_new_conversation(key))
        tasks += [asyncio.ensure_future(store.current_conversation(key)) for _ in range(10)]
        created = await started
        seen = set(await asyncio.gather(*tasks))
        # Each lookup got a conversation of this key: the one current before or after.
        assert seen <= await all_ids(store, key) and len(seen) <= 2
        assert await store.current_conversation(key) == created
        assert [ident for name, ident in await open_rows(store) if name == key] == [created]
    assert created != old


async def test_start_new_finishing_during_a_lookup_wins(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = await store.current_conversation("k")
    store._current._current.clear()
    gate = asyncio.Event()
    monkeypatch.setattr(
        store._conversations, "find_current", Counting(store._conversations.find_current, gate=gate)
    )
    lookup = asyncio.ensure_future(store.current_conversation("k"))
    await asyncio.sleep(0.01)
    created = await store.start_new_conversation("k")  # the lookup will see it
    gate.set()
    assert await lookup == created != old
    assert await store.current_conversation("k") == created


async def test_opening_keys_another_process_opened_meanwhile(
    store: Store, database_url: str
) -> None:
    other = await Store.open(database_url)
    try:
        theirs = await other.current_conversation("shared")
    finally:
        await other.close()
    now = utc_now()
    opened = await store._db.run_write(
        lambda connection: store._conversations.open_many(connection, ["shared", "mine"], now))
    assert opened["shared"] == theirs
    assert await store.current_conversation("shared") == theirs
    assert await store.current_conversation("mine") == opened["mine"]


async def test_a_failed_lookup_fails_its_batch_only_and_cancel_is_isolated(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = store._conversations.find_current

    async def failing(keys: Sequence[str]) -> dict[str, int]:
        raise RuntimeError("db down")

    monkeypatch.setattr(store._conversations, "find_current", failing)
    results = await asyncio.gather(
        *(store.current_conversation(f"f:{i}") for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, RuntimeError) for result in results)

    gate = asyncio.Event()
    monkeypatch.setattr(store._conversations, "find_current", Counting(original, gate=gate))
    cancelled = asyncio.ensure_future(store.current_conversation("f:0"))
    kept = asyncio.ensure_future(store.current_conversation("f:0"))
    await asyncio.sleep(0.01)
    cancelled.cancel()
    gate.set()
    assert isinstance(await kept, int)
    with pytest.raises(asyncio.CancelledError):
        await cancelled


SCOPES = [ScopeKey("telegram", str(chat), str(user)) for chat in range(20) for user in range(3)]


async def test_concurrent_get_settings_share_queries_and_get_own_dicts(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.set_setting(ScopeKey("telegram"), "model", "gpt-a")
    await store.set_setting(SCOPES[4], "language", "zh")
    reads = Counting(store._settings.get)
    monkeypatch.setattr(store._settings, "get", reads)
    requests = [[SCOPES[i], SCOPES[(i + 7) % len(SCOPES)], ScopeKey("telegram")] for i in range(60)]

    results = await asyncio.gather(*(store.get_settings(scopes) for scopes in requests))

    assert len(reads.calls) == 1
    for scopes, found in zip(requests, results, strict=True):
        assert list(found) == scopes
        assert found[ScopeKey("telegram")] == {"model": "gpt-a"}
        for scope in scopes[:2]:
            assert found[scope] == ({"language": "zh"} if scope == SCOPES[4] else {})
    results[0][ScopeKey("telegram")]["model"] = "changed"
    assert results[1][ScopeKey("telegram")] == {"model": "gpt-a"}
    assert await store.get_settings([]) == {}


async def test_get_settings_after_a_write_never_joins_an_older_query(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    scope = ScopeKey("telegram", "1")
    gate = asyncio.Event()
    reads = Counting(store._settings.get, gate=gate)
    monkeypatch.setattr(store._settings, "get", reads)
    stale = asyncio.ensure_future(store.get_settings([scope]))
    await asyncio.sleep(0.01)  # its query is in flight (held at the gate)
    await store.set_setting(scope, "model", "gpt-new")
    fresh = asyncio.ensure_future(store.get_settings([scope]))
    await asyncio.sleep(0.01)
    gate.set()
    await stale
    assert (await fresh)[scope] == {"model": "gpt-new"}
    assert len(reads.calls) == 2
    assert await store.clear_setting(scope, "model")
    assert (await store.get_settings([scope]))[scope] == {}
