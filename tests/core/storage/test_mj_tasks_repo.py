"""Midjourney task rows round-trip on SQLite and PostgreSQL; unfinished ones are found."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from core.parts import ShownAt
from core.storage import Store
from core.storage.engine import alembic_config, create_engine
from core.storage.mj_tasks_repo import MjTaskRow
from core.storage.schema import utc_now


async def test_task_rows_round_trip_and_unfinished_ones_are_listed(store: Store) -> None:
    repo = store.mj_tasks
    flying = MjTaskRow(id="1", action="IMAGINE", platform="telegram", chat_id="-100",
                       requester_id="42", thread_id="7", prompt="a fox --ar 16:9",
                       buttons=["MJ::JOB::upsample::1::h"], status="IN_PROGRESS",
                       properties={"botType": "NIJI_JOURNEY", "width": 64})
    modal = MjTaskRow(id="2", action="MODAL", platform="telegram", chat_id="-100",
                      requester_id="42", status="MODAL")
    done = MjTaskRow(id="3", action="UPSCALE", platform="telegram", chat_id="-100",
                     requester_id="42", status="SUCCESS", notified=True)
    for row in (flying, modal, done):
        await repo.upsert(row)

    loaded = await repo.get("1")
    assert loaded is not None
    assert (loaded.prompt, loaded.buttons, loaded.properties, loaded.thread_id) == (
        "a fox --ar 16:9", ["MJ::JOB::upsample::1::h"],
        {"botType": "NIJI_JOURNEY", "width": 64}, "7")
    assert [row.id for row in await repo.unfinished()] == ["1"]

    loaded.status, loaded.notified = "SUCCESS", True
    await repo.update([loaded])
    assert await repo.unfinished() == []
    assert await repo.get("404") is None


async def test_the_message_showing_a_task_is_stored_alone(store: Store) -> None:
    """The presenter reports the progress message → stored without touching the
    status; a new row shows nothing."""
    repo = store.mj_tasks
    row = MjTaskRow(id="7", action="IMAGINE", platform="discord", chat_id="5",
                    requester_id="42", status="IN_PROGRESS", progress="30%")
    await repo.upsert(row)
    loaded = await repo.get("7")
    assert loaded is not None and loaded.shown == {}

    where = ShownAt(("1234567890123456789",), media=True)
    await repo.set_shown("7", {"job": where.to_json()})

    loaded = await repo.get("7")
    assert loaded is not None
    assert (loaded.status, loaded.progress) == ("IN_PROGRESS", "30%")
    assert ShownAt.from_json(loaded.shown["job"]) == where
    [unfinished] = await repo.unfinished()
    assert unfinished.shown == {"job": {"ids": ["1234567890123456789"], "media": True}}


async def test_rows_stored_before_the_shown_column_read_as_showing_nothing(
        database_url: str) -> None:
    """A database at revision 0003 with a task in flight → upgraded at open: the task
    is still unfinished and shows nothing known."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, "0003")
            await connection.execute(sa.text(
                "INSERT INTO mj_tasks (id, action, status, progress, platform, chat_id, "
                "thread_id, is_private, request_message_id, requester_id, lang, prompt, "
                "image_url, buttons, parent_id, fail_reason, speed, properties, notified, "
                "created_at, updated_at) VALUES ('9', 'IMAGINE', 'IN_PROGRESS', '', "
                "'telegram', '1', '', false, '', '42', 'en', 'a cat', '', '[]', NULL, '', "
                "'', '{}', false, :now, :now)"), {"now": utc_now()})
    finally:
        await engine.dispose()

    store = await Store.open(database_url)
    try:
        [row] = await store.mj_tasks.unfinished()
        assert (row.id, row.prompt, row.shown) == ("9", "a cat", {})
    finally:
        await store.close()


def _upgrade_to(connection: sa.Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
