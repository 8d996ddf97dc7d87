"""URL handling and SQLite specifics."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.storage import NewMessage, Store, normalize_url
from core.storage.checkpoint import WalCheckpointer
from core.storage.conversations import message_row
from core.storage.schema import messages, utc_now
from core.storage.sqlite_thread import SqliteThread
from core.storage.urls import sqlite_file, sqlite_in_memory


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


async def test_sqlite_writes_and_reads_survive_reopen_and_see_each_other(tmp_path: Path) -> None:
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


async def test_no_connection_checkpoints_on_commit_the_checkpointer_does(tmp_path: Path) -> None:
    """SQLite's automatic checkpoint ran inside a turn's COMMIT (15-20 ms, the overhead
    p99 of bench/core_turns.py): every connection turns it off, and the WAL grows past
    SQLite's 1,000-page threshold until ``WalCheckpointer`` backfills it."""
    store = await Store.open(f"sqlite:///{tmp_path / 'chatbridge.db'}")
    db = store._db
    assert db.checkpointer is not None
    try:
        async with db.read() as connection:  # aiosqlite (settings writes, actions, …)
            assert await connection.scalar(sa.text("PRAGMA wal_autocheckpoint")) == 0
        for run in (db.run_read, db.run_transaction):  # the read and write threads
            assert await run(lambda c: c.exec_driver_sql("PRAGMA wal_autocheckpoint")
                             .scalar()) == 0
        conversation = await store.current_conversation("k")
        for _ in range(30):  # ~1,600 WAL pages of committed turns
            await store.save_turn(conversation, "t", [NewMessage("user", "x" * 200_000, 1)],
                                  None)
        busy, frames, done = await db.checkpointer.checkpoint()
        assert busy == 0 and frames > 1000 and done == frames
        assert await store.count_messages(conversation) == 30
    finally:
        await store.close()


async def test_the_checkpointer_runs_every_interval(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'chatbridge.db'}")
    checkpointer = store._db.checkpointer
    assert checkpointer is not None
    try:
        await checkpointer.stop()  # restart it with a short interval
        restarted = WalCheckpointer(SqliteThread(store._db.engine.url, "test-checkpoint",
                                                 lambda *_: None), interval=0.01)
        restarted.start()
        async with asyncio.timeout(5):  # barrier: two periodic rounds ran
            while restarted.checkpoints < 2:
                await asyncio.sleep(0.01)
        await restarted.stop()
        assert restarted.checkpoints >= 2
    finally:
        await store.close()


async def test_a_cancelled_transaction_on_the_write_thread_ends_before_the_next(
        tmp_path: Path) -> None:
    """The thread cannot be interrupted: a cancelled ``run_transaction`` caller waits
    (holding the write lock) until its transaction committed, so the next write
    starts after it, and then gets CancelledError."""
    store = await Store.open(f"sqlite:///{tmp_path / 'chatbridge.db'}")
    conversation = await store.current_conversation("k")
    inside, release = threading.Event(), threading.Event()
    order: list[str] = []

    def slow(connection: Connection) -> None:
        inside.set()
        release.wait(5)
        connection.execute(messages.insert(), [
            message_row(conversation, "t", NewMessage("user", "first", 1), utc_now())])
        order.append("first")

    def second(connection: Connection) -> None:
        order.append("second")

    try:
        first = asyncio.create_task(store._db.run_transaction(slow))
        await asyncio.to_thread(inside.wait, 5)  # barrier: the thread runs it
        first.cancel()
        following = asyncio.create_task(store._db.run_transaction(second))
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await first
        await following
        assert order == ["first", "second"]
        assert await store.count_messages(conversation) == 1  # committed, not rolled back
    finally:
        await store.close()


async def test_in_memory_read_during_a_transaction_waits_for_its_commit() -> None:
    """In-memory SQLite is ONE connection (StaticPool): a read started while another
    coroutine's transaction is open must queue behind it, not run inside it (it would
    see the uncommitted row, and its connection's return would roll the writer back)."""
    store = await Store.open("sqlite://")
    db = store._db
    conversation = await store.current_conversation("k")
    count = sa.select(sa.func.count()).select_from(messages)

    async def read_count() -> int:
        async with db.read() as connection:
            return int((await connection.execute(count)).scalar_one())

    try:
        async with db.transaction() as connection:
            await connection.execute(messages.insert(), [message_row(
                conversation, "t", NewMessage("user", "hi", 1), utc_now())])
            reader = asyncio.create_task(read_count())
            for _ in range(20):  # statements (aiosqlite hops) the reader could slip into
                await connection.execute(sa.text("SELECT 1"))
            assert not reader.done()
        assert await reader == 1  # it ran after the commit
        assert await read_count() == 1  # the commit kept the row
    finally:
        await store.close()


@pytest.mark.parametrize(("url", "file"), [
    ("sqlite://", None), ("sqlite:///:memory:", None),
    ("sqlite:///file::memory:?uri=true", None),
    ("sqlite:///file:x?mode=memory&cache=shared&uri=true", None),
    ("sqlite:///rel/x.db", Path("rel/x.db")), ("sqlite:////abs/x.db", Path("/abs/x.db")),
    ("sqlite:///file:rel/x.db?mode=rwc&uri=true", Path("rel/x.db")),
    ("sqlite:///file:///abs/x%2520y.db?uri=true", Path("/abs/x y.db")),
    ("sqlite:///x.db?timeout=5", Path("x.db")),
])
def test_sqlite_url_forms_name_their_file_or_memory(url: str, file: Path | None) -> None:
    assert sqlite_file(normalize_url(url)) == file
    assert sqlite_in_memory(normalize_url(url)) is (file is None)


def test_libpq_sslmode_is_passed_as_asyncpg_ssl() -> None:
    url = normalize_url("postgres://u:p@h/db?sslmode=require")
    assert url.drivername == "postgresql+asyncpg" and dict(url.query) == {"ssl": "require"}
