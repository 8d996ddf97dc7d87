"""``BatchLoader``: coalesce concurrent single-key lookups into one batched query.

A small DataLoader without timers. The first ``load`` on an idle loader starts a
runner task; every key requested before that task gets to run (the same event-loop
turn) joins its first batch, and keys requested while a batch query is in flight
wait for the next one, which starts as soon as the previous query returns. So a
lone lookup costs one task hop, and a burst of N lookups costs about two queries.

Keys requested again before their batch starts share one future. A key requested
while its batch is in flight gets a fresh future in the next batch, so a caller
always sees writes that completed before its ``load`` (read-your-writes).

Futures returned by ``load`` are shared: await them through ``asyncio.shield`` so a
cancelled caller does not cancel the lookup of the others.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def consume_result(future: asyncio.Future[Any]) -> None:
    """Mark an exception as retrieved (no "never retrieved" log when nobody awaits)."""
    if not future.cancelled():
        future.exception()


class BatchLoader(Generic[K, V]):
    """Batches ``load(key)`` calls into ``fetch(keys)`` calls (see the module docstring).

    ``fetch`` returns a value for every key it was given; a key it leaves out fails
    with ``KeyError``. If ``fetch`` raises, every caller of that batch gets the error.
    """

    def __init__(
        self,
        fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]],
        *,
        max_batch: int,
        name: str,
    ) -> None:
        self._fetch = fetch
        self._max_batch = max_batch
        self._name = name
        self._pending: dict[K, asyncio.Future[V]] = {}
        self._task: asyncio.Task[None] | None = None

    def load(self, key: K) -> asyncio.Future[V]:
        """The future value of ``key``, fetched in the next batch."""
        future = self._pending.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = loop.create_future()
            future.add_done_callback(consume_result)
            self._pending[key] = future
            if self._task is None:
                self._task = loop.create_task(self._run(), name=self._name)
        return future

    async def close(self) -> None:
        """Wait until every requested key (also any requested meanwhile) is answered."""
        while self._task is not None:
            await asyncio.wait([self._task])

    async def _run(self) -> None:
        try:
            while self._pending:
                keys = list(itertools.islice(self._pending, self._max_batch))
                batch = {key: self._pending.pop(key) for key in keys}
                try:
                    found = await self._fetch(keys)
                except Exception as error:
                    for future in batch.values():
                        if not future.done():
                            future.set_exception(error)
                    continue
                except BaseException:
                    for future in batch.values():
                        future.cancel()
                    raise
                for key, future in batch.items():
                    if future.done():
                        continue
                    if key in found:
                        future.set_result(found[key])
                    else:
                        future.set_exception(KeyError(key))
        finally:
            self._task = None
            while self._pending:  # only left over when this task was cancelled
                self._pending.popitem()[1].cancel()
