"""Group commit: the turns' writes (messages and usage-ledger rows) queued while a
batch is being written go together into the next batch, ONE transaction.

Why it exists (bench/core_turns.py, docs/ARCHITECTURE.md "Turn lifecycle and
storage"): over aiosqlite every statement, BEGIN and COMMIT is a hop to the driver's
thread and back, so one transaction per write cost ~2-3 ms of event-loop CPU and
capped a process far below the 300 turns/s target; a batch pays that once for all
the writes waiting for it. One asyncio task drains the queue. A batch is one
``Database.run_transaction``: on a SQLite file one hop to the database thread for
the whole batch instead of ~8 (bench/core_turns.py, quiet machine: overhead p50
4.1-4.5 -> 2.2-2.6 ms per sequential turn, p99 at 1,000-message contexts 10-12 ->
4.3-6.3 ms).

Guarantees (tests/core/storage/test_group_commit.py):

- Atomic per write: a batch that fails (a bad row, a failing COMMIT) is rolled back
  and each of its writes is retried alone in its own transaction, so the failing
  write gets its error and stores nothing, and the others are stored.
- A write cancelled while still queued is dropped (nothing stored). Once its batch
  started it is not interrupted: the caller waits for the outcome and then gets
  ``CancelledError`` (the write stored whole, or not at all if it failed).
- Writes are committed in the order they were queued (FIFO).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Engine

from core.storage.chat_moves import MovedChats
from core.storage.engine import Database

MAX_BATCH = 256
"""Writes per batch at most (a batch's messages go in one multi-row INSERT, which
SQLAlchemy pages at 1,000 rows)."""


@dataclass(eq=False, slots=True)
class _Write:
    message_rows: list[dict[str, Any]]
    ledger_rows: list[dict[str, Any]]
    done: asyncio.Future[list[int]]
    started: bool = False


@dataclass(slots=True)
class _Statements:
    insert_messages: Any
    insert_ledger: Any
    sort_ids: bool = field(default=False)


class GroupWriter:
    """Queues writes and commits them in batches (see the module docstring).

    ``insert_messages`` must return the new ids (``RETURNING id``) in parameter order,
    or ascending when ``sort_ids`` (SQLite: rowids ascend in VALUES order inside the
    serialized write transaction). ``max_batch = 1`` turns batching off (one
    transaction per write), which bench/core_turns.py uses to show what it buys.
    Ledger rows of a chat that moved while they waited get its new id when their batch
    runs (``MovedChats``; under the write lock on SQLite, so after the move's
    transaction)."""

    def __init__(self, db: Database, insert_messages: Any, insert_ledger: Any, *,
                 sort_ids: bool, moved: MovedChats | None = None) -> None:
        self._db = db
        self._moved = moved or MovedChats()
        self._statements = _Statements(insert_messages, insert_ledger, sort_ids)
        self._queue: deque[_Write] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self.max_batch = MAX_BATCH
        self.batches = 0
        """Transactions committed or attempted (for the benchmark)."""

    @property
    def queued(self) -> int:
        """Writes waiting for the next batch (not the one being committed)."""
        return len(self._queue)

    async def write(self, message_rows: Sequence[dict[str, Any]],
                    ledger_rows: Sequence[dict[str, Any]] = ()) -> list[int]:
        """Store the rows in the next batch; the new message ids in ``message_rows``
        order once committed. Raises the database error of this write alone
        (``sqlalchemy.exc.SQLAlchemyError`` subclasses, or what a hook raised)."""
        item = _Write(list(message_rows), list(ledger_rows),
                      asyncio.get_running_loop().create_future())
        self._queue.append(item)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        try:
            return await asyncio.shield(item.done)
        except asyncio.CancelledError:
            if not item.started:
                with contextlib.suppress(ValueError):
                    self._queue.remove(item)
                raise
        while not item.done.done():  # in a running batch: report only its outcome
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(item.done)
        if not item.done.cancelled():
            item.done.exception()  # retrieved: the cancel is what the caller gets
        raise asyncio.CancelledError

    @property
    def engine(self) -> Engine:
        """The engine the batches run on (``Database.write_engine``): where statement
        and commit events fire."""
        return self._db.write_engine

    async def close(self) -> None:
        """Wait until every queued write is committed (or failed)."""
        while self._drainer is not None and not self._drainer.done():
            await asyncio.shield(self._drainer)

    async def _drain(self) -> None:
        while self._queue:
            batch = [self._queue.popleft()
                     for _ in range(min(self.max_batch, len(self._queue)))]
            for item in batch:
                item.started = True
            try:
                await self._commit(batch)
            except Exception as error:
                if len(batch) == 1:
                    _settle(batch[0], error=error)
                    continue
                for item in batch:  # find the failing write: each alone
                    try:
                        await self._commit([item])
                    except Exception as single_error:
                        _settle(item, error=single_error)
            except BaseException as error:  # the drainer itself cancelled (loop closing)
                for item in [*batch, *self._queue]:
                    _settle(item, error=error)
                self._queue.clear()
                raise

    async def _commit(self, batch: list[_Write]) -> None:
        """One transaction for ``batch``; settles each write's future with its ids."""
        message_rows = [row for item in batch for row in item.message_rows]
        ledger_rows = [row for item in batch for row in item.ledger_rows]
        self.batches += 1
        ids = await self._db.run_transaction(
            lambda connection: self._commit_sync(connection, message_rows, ledger_rows))
        start = 0
        for item in batch:
            end = start + len(item.message_rows)
            _settle(item, ids=ids[start:end])
            start = end

    def _commit_sync(self, connection: Connection, message_rows: list[dict[str, Any]],
                     ledger_rows: list[dict[str, Any]]) -> list[int]:
        """The batch's statements, in one transaction (``Database.run_transaction``)."""
        ids = [int(i) for i in connection.execute(
            self._statements.insert_messages, message_rows).scalars()] if message_rows else []
        if ledger_rows:
            connection.execute(self._statements.insert_ledger,
                               [self._moved.apply(row) for row in ledger_rows])
        return sorted(ids) if self._statements.sort_ids else ids


def _settle(item: _Write, *, ids: list[int] | None = None,
            error: BaseException | None = None) -> None:
    if item.done.done():
        return
    if isinstance(error, asyncio.CancelledError):
        item.done.cancel()
    elif error is not None:
        item.done.set_exception(error)
    else:
        item.done.set_result(ids or [])
