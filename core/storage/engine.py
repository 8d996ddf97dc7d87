"""Engine creation (the URL forms: ``core.storage.urls``), migrations (Alembic, run at
open) and the two access patterns of the repositories: a read connection and a write
transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, StaticPool

from core.storage.checkpoint import WalCheckpointer
from core.storage.sqlite_thread import SqliteThread
from core.storage.urls import normalize_url, sqlite_file

__all__ = ["DEFAULT_URL", "Database", "create_engine", "migrate", "normalize_url"]

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite+aiosqlite:///./data/chatbridge.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA wal_autocheckpoint=0",  # checkpoints run off the write path (checkpoint.py)
)


def _apply_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _rollback_if_in_transaction(dbapi_connection: Any, _record: Any, _state: Any) -> None:
    """SQLite's pool reset (SQLAlchemy "custom reset scheme"): roll back only a
    connection still inside a transaction (e.g. after a failed COMMIT). A read opens
    none (pysqlite begins only before DML) and ``Database.transaction`` ends its own,
    so the default unconditional ROLLBACK was an idle hop to aiosqlite's thread per
    checkout (bench/core_turns.py)."""
    if dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for ``url`` (forms: ``core.storage.urls``); for SQLite
    also the file's parent directory and the PRAGMAs.

    In-memory SQLite gets SQLAlchemy's ``StaticPool`` (what its aiosqlite dialect
    picks for ``:memory:``): ONE connection, so one database for the whole process
    (each new connection would open an empty one); a warning says it is lost at exit.
    Raises ``ValueError`` for an unsupported URL (``normalize_url``)."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed, echo=echo, pool_size=10, max_overflow=20,
                                   pool_recycle=1800)
    # No rollback when a connection returns to the pool: every write runs in
    # ``Database.transaction`` (committed or rolled back explicitly) and pysqlite
    # opens no transaction for a SELECT, so the reset was an idle thread hop per
    # checkout (~0.1 ms of loop CPU each, bench/core_turns.py).
    path = sqlite_file(parsed)
    if path is None:
        log.warning("DATABASE_URL is an in-memory SQLite database: everything stored "
                    "is lost when the process exits")
        engine = create_async_engine(parsed, echo=echo, poolclass=StaticPool,
                                     pool_reset_on_return=None)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, echo=echo, poolclass=AsyncAdaptedQueuePool,
                                     pool_size=5, pool_timeout=60,
                                     pool_reset_on_return=None)
    event.listen(engine.sync_engine, "connect", _apply_sqlite_pragmas)
    event.listen(engine.sync_engine.pool, "reset", _rollback_if_in_transaction)
    return engine


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
    """An async engine plus its access patterns: ``read``/``transaction`` (async
    connections) and ``run_read``/``run_transaction`` (a synchronous function run in
    one go).

    PostgreSQL reads run in autocommit mode (no BEGIN/ROLLBACK round trips). SQLite
    has one writer at a time, so this process's transactions queue on an
    ``asyncio.Lock`` rather than in SQLite's busy handler, which polls (sleeps up to
    100 ms) and is unfair: without the lock, bench/core_turns.py (64 concurrent
    conversations) failed turns with "database is locked" after ``busy_timeout``
    (10 s). Other processes on the same file only get that best-effort wait; run
    several processes on PostgreSQL.

    On a SQLite file, ``run_read``/``run_transaction`` run on a read and a write
    thread, each with a synchronous pysqlite connection (``core.storage.sqlite_thread``):
    ONE thread hop per call, where aiosqlite makes one per statement, fetch, BEGIN and
    COMMIT (a read was 4-5 hops, ~1.2 ms on the benchmark VM; one hop ~0.5 ms). The
    turn's hot path uses them (settings, current conversation, history page,
    group-commit batches): bench/core_turns.py cold turns (a new conversation) went
    from p50 8.4 to ~4 ms. Elsewhere
    (PostgreSQL, in-memory SQLite) they run the same function through
    ``AsyncConnection.run_sync``.

    In-memory SQLite has ONE connection (``StaticPool``, see ``create_engine``) and
    SQLite one transaction per connection, so there reads queue on the write lock
    too: a read returning its connection mid-transaction would otherwise share (and,
    by the pool's reset, roll back) another coroutine's transaction.
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
        path = sqlite_file(engine.url) if self.dialect == "sqlite" else None
        in_memory = self.dialect == "sqlite" and path is None
        self._read_lock: contextlib.AbstractAsyncContextManager[Any] = (
            self._write_lock if in_memory else contextlib.nullcontext())
        self._reads: SqliteThread | None
        self._writes: SqliteThread | None
        self._reads, self._writes, checkpoints = (
            (SqliteThread(engine.url, f"chatbridge-sqlite-{role}", _apply_sqlite_pragmas)
             for role in ("read", "write", "checkpoint"))
            if path is not None else (None, None, None))
        self.checkpointer = WalCheckpointer(checkpoints) if checkpoints is not None else None
        """WAL checkpoints of a SQLite file (``core.storage.checkpoint``); started by
        ``start``. None for PostgreSQL and in-memory SQLite."""

    def start(self) -> None:
        """Start the background work (SQLite file: WAL checkpoints); needs a running
        loop. Without it a SQLite file's WAL only shrinks when the last connection
        closes."""
        if self.checkpointer is not None:
            self.checkpointer.start()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads (single statements: no snapshot across them)."""
        async with self._read_lock, self._read_engine.connect() as connection:
            yield connection

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction: committed when the block ends, rolled
        back if it raises (also ``CancelledError``), so it is stored whole or not at
        all. Errors of the statements or of COMMIT propagate unchanged
        (``sqlalchemy.exc.SQLAlchemyError`` subclasses)."""
        async with self._write_lock, self.engine.begin() as connection:
            yield connection

    async def run_read(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` for reads (no snapshot across its statements); its
        result. Raises what ``work`` raises."""
        if self._reads is None:
            async with self.read() as connection:
                return await connection.run_sync(work)
        engine = self._reads.engine

        def read() -> T:
            with engine.connect() as connection:
                return work(connection)

        return await self._reads.call(read)

    async def run_transaction(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` inside one transaction, like ``transaction``: committed
        when it returns, rolled back if it raises (the error propagates). A cancelled
        caller still waits for the thread's transaction to end (the write lock is
        held until then), then gets ``CancelledError``."""
        if self._writes is None:
            async with self.transaction() as connection:
                return await connection.run_sync(work)
        engine = self._writes.engine

        def transaction() -> T:
            with engine.begin() as connection:
                return work(connection)

        async with self._write_lock:
            return await self._writes.call(transaction)

    @property
    def write_lock(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """Held by every write of this process (SQLite: one writer at a time)."""
        return self._write_lock

    @property
    def write_engine(self) -> Engine:
        """The engine ``run_transaction`` executes on (a SQLite file: the write
        thread's, else the async engine's ``sync_engine``): where its statement and
        commit events fire."""
        return self._writes.engine if self._writes is not None else self.engine.sync_engine

    async def dispose(self) -> None:
        """Stop the checkpoints; close every pooled connection and the threads'."""
        if self.checkpointer is not None:
            await self.checkpointer.stop()
        for thread in (self._reads, self._writes):
            if thread is not None:
                await thread.close()
        await self.engine.dispose()
