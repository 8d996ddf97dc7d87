"""One synchronous (pysqlite) connection on a SQLite file, driven from one thread.

``Database`` runs its ``run_read``/``run_transaction`` functions on two of these (one
for reads, one for writes: WAL lets a read run while a batch commits) and the WAL
checkpointer on a third. A call is ONE hop to the thread and back, where aiosqlite
makes one per statement, fetch, BEGIN and COMMIT (bench/core_turns.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import StaticPool

T = TypeVar("T")


class SqliteThread:
    """``engine`` (pysqlite, one connection, PRAGMAs applied by ``on_connect``) and the
    one thread that uses it."""

    def __init__(self, url: URL, name: str, on_connect: Callable[[Any, Any], None]) -> None:
        self.engine: Engine = create_engine(
            url.set(drivername="sqlite+pysqlite"), poolclass=StaticPool,
            connect_args={"check_same_thread": False})
        event.listen(self.engine, "connect", on_connect)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._closed = False

    async def call(self, work: Callable[[], T]) -> T:
        """``work()`` on the thread; its result or exception. The thread cannot be
        interrupted: a cancelled caller waits until ``work`` ended, then gets
        ``CancelledError`` (so a transaction never outlives its caller's lock)."""
        done = asyncio.get_running_loop().run_in_executor(self._executor, work)
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            while not done.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(done)
            if not done.cancelled():
                done.exception()  # retrieved: the cancel is what the caller gets
            raise

    async def close(self) -> None:
        """Close the connection and let the thread end (again: a no-op)."""
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(self._executor, self.engine.dispose)
        self._executor.shutdown(wait=False)
