"""Database URL handling, engine creation and migrations (Alembic, run at open)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

T = TypeVar("T")

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


class CommitFailed(Exception):
    """COMMIT itself failed (as opposed to a statement inside the transaction)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _in_transaction(connection: Connection, work: Callable[[Connection], T]) -> T:
    """Run ``work`` in a transaction on a sync connection; commit on success."""
    transaction = connection.begin()
    try:
        result = work(connection)
    except BaseException:
        transaction.rollback()
        raise
    try:
        transaction.commit()
    except Exception as error:
        raise CommitFailed(error) from error
    return result


class _SQLiteWriterThread:
    """A sync engine on the same SQLite file, used from one dedicated thread.

    A write transaction there is one hop to the thread, where aiosqlite makes a
    hop per cursor call (cursor, execute, fetch, close, commit); it keeps the hot
    ``save_turn`` path at a fraction of the latency and event-loop CPU.
    """

    def __init__(self, url: URL) -> None:
        self.engine = sa.create_engine(
            url.set(drivername="sqlite+pysqlite"), pool_size=1, max_overflow=0,
            pool_reset_on_return=None, connect_args={"check_same_thread": False},
        )
        event.listen(self.engine, "connect", _apply_sqlite_pragmas)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="chatbridge-sqlite-writer")

    async def run(self, work: Callable[[Connection], T]) -> T:
        def write() -> T:
            with self.engine.connect() as connection:
                return _in_transaction(connection, work)

        return await asyncio.get_running_loop().run_in_executor(self._executor, write)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()


def _is_busy(error: sa.exc.OperationalError) -> bool:
    text = str(error.orig).lower()
    return "locked" in text or "busy" in text


def _loop_reader_engine(url: URL) -> sa.Engine:
    """A sync, read-only engine on the SQLite file for reads on the event loop."""
    engine = sa.create_engine(
        url.set(drivername="sqlite+pysqlite"), pool_size=1, max_overflow=0,
        pool_reset_on_return=None,
    )

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=20")  # never stall the loop: fall back instead
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    return engine


class Database:
    """An engine plus the access pattern for its backend.

    Every write is sync work in one transaction (``run_write``); on SQLite they are
    serialized by an in-process lock (other processes wait on ``busy_timeout``).
    PostgreSQL reads run in autocommit mode to save the BEGIN/ROLLBACK round trips.
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
        file = _sqlite_file(engine.url) if self.dialect == "sqlite" else None
        self._writer_thread = _SQLiteWriterThread(engine.url) if file is not None else None
        self._loop_reader = _loop_reader_engine(engine.url) if file is not None else None

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for single-statement reads."""
        async with self._read_engine.connect() as connection:
            yield connection

    async def read_hot(self, work: Callable[[Connection], T]) -> T:
        """Run sync ``work`` (small indexed reads of the turn path) and return its result.

        For a SQLite file it runs right here on the event loop: such a read takes tens
        of microseconds, where each hop to an aiosqlite thread costs far more. WAL
        readers do not wait for the writer; should the file still be busy, the read
        falls back to the async path. Elsewhere it runs through ``run_sync``."""
        if self._loop_reader is not None:
            try:
                with self._loop_reader.connect() as connection:
                    return work(connection)
            except sa.exc.OperationalError as error:
                if not _is_busy(error):
                    raise
        async with self.read() as connection:
            return await connection.run_sync(work)

    async def run_write(self, work: Callable[[Connection], T]) -> T:
        """Run sync ``work`` in one write transaction, committed on success.

        A failing COMMIT raises ``CommitFailed``. For a SQLite file, ``work`` runs on
        the writer thread; otherwise through ``AsyncConnection.run_sync``."""
        async with self._write_lock:
            if self._writer_thread is not None:
                return await self._writer_thread.run(work)
            async with self.engine.connect() as connection:
                return await connection.run_sync(_in_transaction, work)

    async def dispose(self) -> None:
        if self._writer_thread is not None:
            self._writer_thread.close()
        if self._loop_reader is not None:
            self._loop_reader.dispose()
        await self.engine.dispose()
