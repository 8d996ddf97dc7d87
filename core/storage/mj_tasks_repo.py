"""Rows of the ``mj_tasks`` table: Midjourney tasks followed across restarts
(see ``core.midjourney``). One read or one transaction per call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.storage.chat_moves import MovedChats
from core.storage.engine import Database
from core.storage.schema import mj_tasks, utc_now

_t = mj_tasks.c
TERMINAL = ("SUCCESS", "FAILURE", "CANCEL", "TIMEOUT")
"""Statuses after which a task is not polled any more (TIMEOUT is ours)."""


@dataclass(slots=True)
class MjTaskRow:
    """One tracked task (times UTC). ``buttons``: the customIds offered; ``properties``:
    the gateway's properties plus ours (``width``/``height``, ``mask_cells``…)."""

    id: str
    action: str
    platform: str
    chat_id: str
    requester_id: str
    status: str = ""
    progress: str = ""
    thread_id: str = ""
    is_private: bool = False
    request_message_id: str = ""
    lang: str = "en"
    prompt: str = ""
    image_url: str = ""
    buttons: list[str] = field(default_factory=list)
    parent_id: str | None = None
    fail_reason: str = ""
    speed: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    notified: bool = False
    shown: dict[str, Any] = field(default_factory=dict)
    """Part ref → ``ShownAt.to_json()``: the messages showing the task's progress."""
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class MjTaskRepository:
    """Insert, update and look up tracked Midjourney tasks. A row of a chat moved while
    its task ran is written under the new chat id (``MovedChats``)."""

    def __init__(self, db: Database, moved: MovedChats | None = None) -> None:
        self._db = db
        self._moved = moved or MovedChats()

    async def upsert(self, row: MjTaskRow) -> None:
        """Insert ``row`` or replace the stored row with the same id."""
        row.updated_at = utc_now()
        async with self._db.transaction() as connection:
            await connection.execute(sa.delete(mj_tasks).where(_t.id == row.id))
            await connection.execute(sa.insert(mj_tasks), [self._moved.apply(row.values())])

    async def update(self, rows: Sequence[MjTaskRow]) -> None:
        """Write the changed state of ``rows`` (one transaction)."""
        if not rows:
            return
        now = utc_now()
        async with self._db.transaction() as connection:
            for row in rows:
                row.updated_at = now
                values = self._moved.apply(row.values())
                values.pop("id")
                await connection.execute(
                    sa.update(mj_tasks).where(_t.id == row.id).values(**values))

    async def set_shown(self, task_id: str, shown: dict[str, Any]) -> None:
        """Store where the task's parts are shown (only that column: never races the
        status writes)."""
        async with self._db.transaction() as connection:
            await connection.execute(
                sa.update(mj_tasks).where(_t.id == task_id).values(shown=shown))

    async def get(self, task_id: str) -> MjTaskRow | None:
        """The row of ``task_id``, or None."""
        async with self._db.read() as connection:
            found = (await connection.execute(
                sa.select(mj_tasks).where(_t.id == task_id))).mappings().first()
        return None if found is None else MjTaskRow(**dict(found))

    async def unfinished(self) -> list[MjTaskRow]:
        """Rows not yet handed to their chat (in flight, or finished while no adapter
        ran), oldest first; MODAL tasks wait for a prompt and are left out."""
        query = (sa.select(mj_tasks)
                 .where(_t.notified.is_(False), _t.status != "MODAL")
                 .order_by(_t.created_at))
        async with self._db.read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [MjTaskRow(**dict(row)) for row in rows]
