"""The ``actions`` table on SQLite and PostgreSQL: rows round-trip, expire, and go away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.storage import Store
from core.storage.actions_repo import StoredAction

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def row(action_id: str, expires_at: datetime | None = None) -> StoredAction:
    return StoredAction(id=action_id, kind="model.pick", platform="telegram", chat_id="-100",
                        owner_id="42", who="requester",
                        payload={"model": "glm-4", "note": "模型", "page": 2},
                        created_at=NOW, expires_at=expires_at)


async def test_an_action_row_round_trips(store: Store) -> None:
    stored = row("abcDEF123_-x", NOW + timedelta(hours=1))
    await store.actions.insert([stored])
    assert await store.actions.get("abcDEF123_-x") == stored
    assert await store.actions.get("missing") is None


async def test_a_duplicate_id_is_refused_and_nothing_of_the_batch_is_kept(store: Store) -> None:
    await store.actions.insert([row("one")])
    with pytest.raises(sa.exc.IntegrityError):
        await store.actions.insert([row("two"), row("one")])
    assert await store.actions.get("two") is None


async def test_expired_rows_are_purged_and_others_kept(store: Store) -> None:
    await store.actions.insert([row("old", NOW - timedelta(seconds=1)), row("edge", NOW),
                                row("later", NOW + timedelta(seconds=1)), row("forever")])
    assert await store.actions.delete_expired(NOW) == 2
    assert [await store.actions.get(i) is not None for i in ("old", "edge", "later",
                                                              "forever")] == [
        False, False, True, True]
    assert await store.actions.delete("later") is True
    assert await store.actions.delete("later") is False
