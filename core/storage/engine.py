"""Database URL handling, engine creation and migrations (Alembic, run at open)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

DEFAULT_URL = "sqlite+aiosqlite:///./data/chatbridge.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)


def normalize_url(url: str) -> URL:
    """Parse ``url`` and pin the async driver (aiosqlite / asyncpg)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database URL {parsed!r}; use sqlite or postgresql")


def _sqlite_file(url: URL) -> Path | None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _apply_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine; for SQLite also the parent directory and PRAGMAs."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # Transactions always end in COMMIT/ROLLBACK before a connection is returned
        # (AsyncConnection.close rolls back), so skip the extra reset round trip.
        engine = create_async_engine(
            parsed, echo=echo, pool_size=5, pool_timeout=60, pool_reset_on_return=None
        )
        event.listen(engine.sync_engine, "connect", _apply_sqlite_pragmas)
        return engine
    return create_async_engine(parsed, echo=echo, pool_size=10, max_overflow=20, pool_recycle=1800)


def alembic_config() -> Config:
    """Alembic configuration for the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def _upgrade_to_head(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Apply all pending migrations (``upgrade head``); a no-op when up to date."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_to_head)


class Database:
    """An engine plus the access pattern for its backend.

    SQLite allows one writer at a time, so write transactions are serialized by an
    in-process lock (other processes wait on ``busy_timeout``). PostgreSQL reads run
    in autocommit mode to save the BEGIN/ROLLBACK round trips.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect: str = engine.dialect.name
        self._write_lock: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if self.dialect == "sqlite" else contextlib.nullcontext()
        )
        self._read_engine = (
            engine
            if self.dialect == "sqlite"
            else engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for single-statement reads."""
        async with self._read_engine.connect() as connection:
            yield connection

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction, committed on success."""
        async with self._write_lock, self.engine.begin() as connection:
            yield connection

    async def dispose(self) -> None:
        await self.engine.dispose()
