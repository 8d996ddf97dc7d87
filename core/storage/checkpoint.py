"""SQLite WAL checkpoints off the write path.

SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past 1,000
pages, on the committing connection, and it fsyncs the database file: on the
benchmark VM that COMMIT took 15-20 ms instead of ~1.5 ms, 4 times per 1,000
sequential turns, which alone put the framework overhead p99 over its 5 ms target
(bench/core_turns.py: slowest turns 21 / 20 / 19 / 17 ms, all in the save; with the
checkpoints moved here the slowest was 6.4 ms).

So every connection of this process sets ``PRAGMA wal_autocheckpoint=0``
(``core.storage.engine``) and ``WalCheckpointer`` runs ``PRAGMA
wal_checkpoint(PASSIVE)`` every ``interval`` seconds on its own connection and
thread. A passive checkpoint blocks neither writers nor readers: it copies the frames
no reader still needs and syncs. Other processes on the same file keep SQLite's
default. SQLite also checkpoints when the last connection closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import exc

from core.storage.sqlite_thread import SqliteThread

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL = 1.0
"""Seconds between passive checkpoints (our choice: at ~400 turns/s the WAL then
stays around a few hundred pages)."""


class WalCheckpointer:
    """Runs passive WAL checkpoints on ``thread`` (its own connection to the file)
    every ``interval`` seconds once ``start``-ed."""

    def __init__(self, thread: SqliteThread, *, interval: float = CHECKPOINT_INTERVAL) -> None:
        self._thread = thread
        self._task: asyncio.Task[None] | None = None
        self.interval = interval
        self.checkpoints = 0
        """Checkpoints run so far (tests wait on it)."""

    def start(self) -> None:
        """Start the periodic checkpoints (idempotent; needs a running loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sqlite-wal-checkpoint")

    async def checkpoint(self) -> tuple[int, int, int]:
        """One passive checkpoint now: SQLite's ``(busy, WAL frames, frames
        checkpointed)``. Raises ``sqlalchemy.exc.DBAPIError`` if SQLite fails."""
        return await self._thread.call(self._checkpoint_sync)

    async def stop(self) -> None:
        """Stop the periodic checkpoints and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._thread.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.checkpoint()
            except exc.DBAPIError as error:  # e.g. disk full: the next round tries again
                log.warning("WAL checkpoint failed: %s", error)

    def _checkpoint_sync(self) -> tuple[int, int, int]:
        with self._thread.engine.connect() as connection:
            busy, frames, done = connection.exec_driver_sql(
                "PRAGMA wal_checkpoint(PASSIVE)").one()
        self.checkpoints += 1
        return int(busy), int(frames), int(done)
