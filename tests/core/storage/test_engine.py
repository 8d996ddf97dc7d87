"""URL handling and SQLite specifics."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from core.storage import NewMessage, Store, normalize_url


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
