"""URL handling and SQLite specifics."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.storage import NewMessage, ScopeKey, Store, normalize_url


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite:///./data/x.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///./data/x.db", "sqlite+aiosqlite"),
        ("postgresql://u:p@h/db", "postgresql+asyncpg"),
        ("postgres://u:p@h/db", "postgresql+asyncpg"),
        ("postgresql+psycopg2://u:p@h/db", "postgresql+asyncpg"),
    ],
)
def test_normalize_url_pins_async_driver(url: str, driver: str) -> None:
    assert normalize_url(url).drivername == driver


def test_normalize_url_rejects_other_backends() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        normalize_url("mysql://u:p@h/db")


async def test_sqlite_creates_parent_directory_and_enables_wal(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "chatbridge.db"
    store = await Store.open(f"sqlite:///{path}")
    try:
        assert path.exists()
        async with store._db.read() as connection:
            journal = (await connection.execute(sa.text("PRAGMA journal_mode"))).scalar()
            foreign_keys = (await connection.execute(sa.text("PRAGMA foreign_keys"))).scalar()
            busy_timeout = (await connection.execute(sa.text("PRAGMA busy_timeout"))).scalar()
        assert journal == "wal"
        assert foreign_keys == 1
        assert busy_timeout is not None and busy_timeout > 0
    finally:
        await store.close()


async def test_a_locked_sqlite_file_does_not_stall_the_event_loop(tmp_path: Path) -> None:
    """Hot reads run on the loop; when another process holds the file they fall back to
    the async path and wait there, while the loop keeps serving other tasks."""
    path = tmp_path / "chatbridge.db"
    store = await Store.open(f"sqlite:///{path}")
    try:
        await store.set_setting(ScopeKey("telegram", "1"), "model", "glm-4")
        conversation = await store.current_conversation("k")
        await store.save_turn(conversation, "t1", [NewMessage("user", "hi", 2)], None)
        # Another process takes the file exclusively (possible once ours let go of it).
        await store._db.engine.dispose()
        assert store._db._loop_reader and store._db._writer_thread
        store._db._loop_reader.dispose()
        store._db._writer_thread.engine.dispose()
        locker = sqlite3.connect(path, isolation_level=None)
        locker.execute("PRAGMA locking_mode=EXCLUSIVE")
        locker.execute("BEGIN EXCLUSIVE")
        locker.execute("INSERT INTO conversations (key, created_at) VALUES ('other', '2026-01-01')")
        ticks: list[float] = []

        async def ticker() -> None:
            while True:
                ticks.append(asyncio.get_running_loop().time())
                await asyncio.sleep(0.01)

        def release() -> None:
            locker.execute("ROLLBACK")
            locker.close()

        ticking = asyncio.create_task(ticker())
        asyncio.get_running_loop().call_later(0.5, release)
        started = asyncio.get_running_loop().time()
        settings, recent = await asyncio.gather(
            store.get_settings([ScopeKey("telegram", "1")]),
            store.load_recent_messages(conversation, limit=10),
        )
        waited = asyncio.get_running_loop().time() - started
        ticking.cancel()
        assert settings == {ScopeKey("telegram", "1"): {"model": "glm-4"}}
        assert [message.content for message in recent] == ["hi"]
        assert waited >= 0.4  # really waited for the lock ...
        gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
        assert len(ticks) > 20 and max(gaps) < 0.2  # ... without blocking the loop
    finally:
        await store.close()


async def test_sqlite_writes_and_reads_survive_reopen_and_see_each_other(tmp_path: Path) -> None:
    """Writer thread and loop reader work on the same file as the async engine."""
    url = f"sqlite:///{tmp_path / 'chatbridge.db'}"
    store = await Store.open(url)
    try:
        conversation = await store.current_conversation("k")
        ids = await store.save_turn(
            conversation, "t1", [NewMessage("user", "q", 1), NewMessage("assistant", "a", 1)], None
        )
        assert [m.id for m in await store.load_recent_messages(conversation, limit=5)] == ids[::-1]
        newer = await store.start_new_conversation("k")
        assert newer != conversation and await store.current_conversation("k") == newer
    finally:
        await store.close()
    reopened = await Store.open(url)
    try:
        assert await reopened.current_conversation("k") == newer
        assert await reopened.count_messages(conversation) == 2
    finally:
        await reopened.close()
