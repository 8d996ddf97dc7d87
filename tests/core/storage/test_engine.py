"""URL handling and SQLite specifics."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from core.storage import Store, normalize_url


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
