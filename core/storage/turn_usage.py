"""Usage rows that wait for their turn's transaction (``Store.turn_usage``).

A chat turn makes one or more gateway calls; ``core.metering.UsageLedger`` records a
row per call (``Store.record_usage``). Inside ``Store.turn_usage()`` those rows are
held here and committed in the same transaction as the turn's messages
(``Store.save_turn``): a stored turn always carries its usage, and the turn costs one
transaction instead of one per call plus one (bench/core_turns.py: each transaction
is ~5 aiosqlite thread hops). Rows the turn did not store (it failed, was cancelled,
or stored nothing) are written on their own when the block exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar

from core.storage.types import UsageRecord

log = logging.getLogger(__name__)

UsageRow = tuple[str, UsageRecord]
"""(turn id or call id, record)."""


class PendingUsage:
    """The rows recorded so far in one ``turn_usage`` block (closed when it exits, so
    a task that outlives the block writes its rows itself)."""

    def __init__(self) -> None:
        self.rows: list[UsageRow] = []
        self.open = True

    def take(self) -> list[UsageRow]:
        """Hand the rows to a save (``restore`` them if that save fails)."""
        rows, self.rows = self.rows, []
        return rows

    def restore(self, rows: Sequence[UsageRow]) -> None:
        self.rows[:0] = rows


_PENDING: ContextVar[PendingUsage | None] = ContextVar("chatbridge_turn_usage", default=None)


def pending() -> PendingUsage | None:
    """The open block of the current task, if any."""
    block = _PENDING.get()
    return block if block is not None and block.open else None


@contextlib.asynccontextmanager
async def turn_usage_block(
    write: Callable[[Sequence[UsageRow]], Awaitable[None]],
) -> AsyncIterator[PendingUsage]:
    """Hold usage rows until the turn's save; ``write`` stores what is left at exit.

    The final write completes even when the block exits by cancellation (or is
    cancelled during it); a cancel that arrives during that write is re-raised after
    it. A database error of that write is logged, not raised: the turn's own outcome
    (its error, its cancel) is what the caller reports."""
    block = PendingUsage()
    token = _PENDING.set(block)
    try:
        yield block
    finally:
        block.open = False
        _PENDING.reset(token)
        if block.rows:
            await _complete(asyncio.ensure_future(write(block.take())))


async def _complete(work: asyncio.Future[None]) -> None:
    cancelled = False
    while not work.done():
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            cancelled = True
    if not work.cancelled() and work.exception() is not None:
        log.error("usage rows of a turn could not be stored", exc_info=work.exception())
    if cancelled:
        raise asyncio.CancelledError
