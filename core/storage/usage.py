"""Usage ledger: one row per gateway call (written by ``core.metering.UsageLedger``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.events import Usage
from core.storage.engine import Database
from core.storage.schema import usage_ledger, utc_now
from core.storage.types import UsageRecord
from core.storage.writer import GroupWriter

INSERT_LEDGER_ROW = sa.insert(usage_ledger)

_ledger = usage_ledger.c


def ledger_row(turn_id: str, record: UsageRecord, created_at: datetime) -> dict[str, Any]:
    """Parameters for ``INSERT_LEDGER_ROW``."""
    return {
        "turn_id": turn_id,
        "platform": record.platform,
        "chat_id": record.chat_id,
        "user_id": record.user_id,
        "model": record.model,
        "prompt_tokens": record.usage.prompt_tokens,
        "completion_tokens": record.usage.completion_tokens,
        "estimated": record.usage.estimated,
        "cost": record.cost,
        "kind": record.kind,
        "outcome": record.outcome,
        "units": record.units,
        "unit": record.unit,
        "created_at": created_at,
    }


class UsageRepository:
    """Aggregates over the usage ledger."""

    def __init__(self, db: Database, writer: GroupWriter) -> None:
        self._db = db
        self._writer = writer

    async def record(self, turn_id: str, record: UsageRecord) -> None:
        """Insert one ledger row, atomically by itself, in the next group-commit batch."""
        await self._writer.write([], [ledger_row(turn_id, record, utc_now())])

    async def record_many(self, rows: Sequence[tuple[str, UsageRecord]]) -> None:
        """Insert ledger rows ``(turn_id, record)`` in one write (one transaction)."""
        now = utc_now()
        await self._writer.write([], [ledger_row(turn_id, record, now)
                                      for turn_id, record in rows])

    async def totals(
        self, *, platform: str, user_id: str | None = None, since: datetime | None = None,
        kind: str | None = None, outcome: str | None = None,
    ) -> Usage:
        """Summed tokens of the matching rows (``kind``/``outcome`` filter when given);
        ``estimated`` is true if any counted row was an estimate."""
        query = sa.select(
            sa.func.coalesce(sa.func.sum(_ledger.prompt_tokens), 0),
            sa.func.coalesce(sa.func.sum(_ledger.completion_tokens), 0),
            sa.func.coalesce(sa.func.sum(sa.case((_ledger.estimated, 1), else_=0)), 0),
        ).where(_ledger.platform == platform)
        if user_id is not None:
            query = query.where(_ledger.user_id == user_id)
        if since is not None:
            query = query.where(_ledger.created_at >= since)
        if kind is not None:
            query = query.where(_ledger.kind == kind)
        if outcome is not None:
            query = query.where(_ledger.outcome == outcome)
        async with self._db.read() as connection:
            prompt, completion, estimated_rows = (await connection.execute(query)).one()
        return Usage(
            prompt_tokens=int(prompt),
            completion_tokens=int(completion),
            estimated=int(estimated_rows) > 0,
        )

    async def units_total(
        self, *, platform: str, user_id: str, since: datetime, kinds: Sequence[str],
        outcome: str = "ok",
    ) -> float:
        """Summed ``units`` of one user's rows of ``kinds`` with ``outcome`` since a
        time (a row without units counts 1: one call). Used for daily image
        allowances (``core.image_jobs``)."""
        query = sa.select(
            sa.func.coalesce(sa.func.sum(sa.func.coalesce(_ledger.units, 1)), 0),
        ).where(_ledger.platform == platform, _ledger.user_id == user_id,
                _ledger.created_at >= since, _ledger.kind.in_(list(kinds)),
                _ledger.outcome == outcome)
        async with self._db.read() as connection:
            return float((await connection.execute(query)).scalar_one())
