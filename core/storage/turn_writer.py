"""Group commit for ``Store.save_turn``: concurrent turns share one transaction.

The same single writer also opens new conversations for ``Store.current_conversation``
(``open_conversations``): every queued key in one multi-row INSERT and one COMMIT,
written before the queued turns (a new conversation is on the way to a first token,
a turn is already answered), so all these writes stay serialized on SQLite.

Every ``save_turn`` call is queued to a single writer task. The writer takes
everything queued (up to ``MAX_BATCH_TURNS``) and writes it in one transaction: all
messages of all turns in one multi-row ``INSERT … RETURNING id`` and all ledger rows
in one executemany, then one COMMIT. Each caller's call returns its message ids only
after that commit (the same durability as a transaction per turn).

* No timer: a lone call is written at once. Batches form by themselves while a
  commit is in flight, because calls arriving meanwhile wait in the queue.
* Isolation: if the combined write fails, it is rolled back and the batch is
  written again in one transaction with every turn in its own SAVEPOINT, so a bad
  turn rolls back only itself and only its caller gets the exception. If the COMMIT
  itself fails, every caller of that batch gets the error.
* Cancellation: once queued, a turn is written even if its caller is cancelled
  (the caller gets ``CancelledError``, the turn is stored). Only cancelling the
  writer task itself (loop shutdown) abandons turns; their callers are cancelled.
* ``close()`` waits until the queues are drained (``Store.close`` then disposes).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from core.storage.batching import consume_result
from core.storage.conversations import (
    ConversationRepository,
    insert_messages_returning_ids,
    message_row,
)
from core.storage.engine import CommitFailed, Database
from core.storage.schema import utc_now
from core.storage.types import NewMessage, UsageRecord
from core.storage.usage import INSERT_LEDGER_ROW, ledger_row

MAX_BATCH_TURNS = 256
"""Turns written per transaction at most (bounds statement size and latency)."""


@dataclass(slots=True)
class _PendingTurn:
    message_rows: list[dict[str, Any]]
    ledger_row: dict[str, Any] | None
    future: asyncio.Future[list[int]]
    message_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _PendingOpen:
    keys: list[str]
    future: asyncio.Future[dict[str, int]]


class TurnWriter:
    """The single writer behind ``Store.save_turn`` (see the module docstring)."""

    def __init__(self, db: Database, conversations: ConversationRepository) -> None:
        self._db = db
        self._conversations = conversations
        self._opens: deque[_PendingOpen] = deque()
        self._sqlite = db.dialect == "sqlite"
        self._insert_messages = insert_messages_returning_ids(db.dialect)
        self._queue: deque[_PendingTurn] = deque()
        self._task: asyncio.Task[None] | None = None

    async def save_turn(
        self,
        conversation_id: int,
        turn_id: str,
        new_messages: Sequence[NewMessage],
        usage: UsageRecord | None,
    ) -> list[int]:
        """Queue one turn and wait until the batch holding it has committed."""
        now = utc_now()
        loop = asyncio.get_running_loop()
        pending = _PendingTurn(
            [message_row(conversation_id, turn_id, message, now) for message in new_messages],
            None if usage is None else ledger_row(turn_id, usage, now),
            loop.create_future(),
        )
        self._queue.append(pending)
        self._start(loop)
        try:
            # shield: cancelling the caller must not cancel the shared write.
            return await asyncio.shield(pending.future)
        except asyncio.CancelledError:
            pending.future.add_done_callback(consume_result)
            raise

    async def open_conversations(self, keys: list[str]) -> dict[str, int]:
        """Ids of open conversations for the distinct ``keys``, created where missing,
        batched with every other queued open (see the module docstring)."""
        loop = asyncio.get_running_loop()
        pending = _PendingOpen(keys, loop.create_future())
        pending.future.add_done_callback(consume_result)
        self._opens.append(pending)
        self._start(loop)
        return await asyncio.shield(pending.future)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._task is None:
            self._task = loop.create_task(self._run(), name="chatbridge-turn-writer")

    async def close(self) -> None:
        """Wait until every queued turn (also any queued meanwhile) is written."""
        while self._task is not None:
            await asyncio.wait([self._task])

    async def _run(self) -> None:
        try:
            while self._queue or self._opens:
                if self._opens:
                    opens = list(self._opens)
                    self._opens.clear()
                    try:
                        await self._open_batch(opens)
                    except BaseException:
                        for pending in opens:
                            pending.future.cancel()
                        raise
                if not self._queue:
                    continue
                count = min(len(self._queue), MAX_BATCH_TURNS)
                batch = [self._queue.popleft() for _ in range(count)]
                try:
                    await self._write_batch(batch)
                except BaseException:
                    for turn in batch:
                        if not turn.future.done():
                            turn.future.cancel()
                    raise
        finally:
            self._task = None
            while self._queue:  # only left over when this task was cancelled
                self._queue.popleft().future.cancel()
            while self._opens:
                self._opens.popleft().future.cancel()

    async def _open_batch(self, batch: list[_PendingOpen]) -> None:
        """Open conversations for every key of ``batch`` in one transaction."""
        keys = list(dict.fromkeys(key for pending in batch for key in pending.keys))
        now = utc_now()
        try:
            opened = await self._db.run_write(
                lambda connection: self._conversations.open_many(connection, keys, now))
        except Exception as error:
            failure = error.error if isinstance(error, CommitFailed) else error
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(failure)
            return
        for pending in batch:
            if not pending.future.done():
                pending.future.set_result({key: opened[key] for key in pending.keys})

    async def _write_batch(self, batch: list[_PendingTurn]) -> None:
        """Write ``batch`` and settle every caller's future."""
        try:
            try:
                await self._write_together(batch)
            except CommitFailed:
                raise
            except Exception:
                if len(batch) == 1:
                    raise
                await self._write_isolated(batch)
        except Exception as error:
            failure = error.error if isinstance(error, CommitFailed) else error
            for turn in batch:
                if not turn.future.done():
                    turn.future.set_exception(failure)
            return
        for turn in batch:
            if not turn.future.done():
                turn.future.set_result(turn.message_ids)

    async def _write_together(self, batch: list[_PendingTurn]) -> None:
        """The fast path: the whole batch in one transaction, multi-row statements."""
        message_rows = [row for turn in batch for row in turn.message_rows]
        ledger_rows = [turn.ledger_row for turn in batch if turn.ledger_row is not None]

        def write(connection: Connection) -> list[int]:
            ids = self._insert_message_rows(connection, message_rows)
            if ledger_rows:
                # executemany (also for one row): skips fetching the new primary keys.
                connection.execute(INSERT_LEDGER_ROW, ledger_rows)
            return ids

        ids = await self._db.run_write(write)
        start = 0
        for turn in batch:
            end = start + len(turn.message_rows)
            turn.message_ids = ids[start:end]
            start = end

    async def _write_isolated(self, batch: list[_PendingTurn]) -> None:
        """The fallback: one transaction, each turn in its own SAVEPOINT."""
        failures: dict[int, Exception] = {}

        def write(connection: Connection) -> None:
            if self._sqlite:
                # pysqlite begins transactions lazily, before the first INSERT; a
                # SAVEPOINT sent first would start (and its RELEASE end) the
                # transaction itself. Begin explicitly so savepoints nest in it.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            for index, turn in enumerate(batch):
                try:
                    with connection.begin_nested():
                        ids = self._insert_message_rows(connection, turn.message_rows)
                        if turn.ledger_row is not None:
                            connection.execute(INSERT_LEDGER_ROW, [turn.ledger_row])
                except Exception as error:
                    failures[index] = error
                else:
                    turn.message_ids = ids

        await self._db.run_write(write)
        for index, error in failures.items():  # settled here, on the event loop
            batch[index].future.set_exception(error)

    def _insert_message_rows(self, connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
        """Insert ``rows``; their new ids in ``rows`` order."""
        if not rows:
            return []
        result = connection.execute(self._insert_messages, rows)
        ids = [int(message_id) for message_id in result.scalars()]
        if self._sqlite:
            # SQLite assigns ascending rowids in VALUES order inside the serialized
            # write transaction, but does not promise RETURNING order.
            ids.sort()
        return ids
