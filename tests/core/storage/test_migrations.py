"""Migrations create the schema the code expects; re-opening is a no-op."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.storage import NewMessage, Store
from core.storage.engine import create_engine
from core.storage.schema import metadata

TABLES = {"actions", "alembic_version", "conversations", "messages", "mj_tasks", "settings",
          "usage_ledger"}


def _schema_state(connection: sa.Connection) -> tuple[set[str], str | None, list[Any]]:
    tables = set(sa.inspect(connection).get_table_names())
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return tables, context.get_current_revision(), compare_metadata(context, metadata)


async def _inspect(url: str) -> tuple[set[str], str | None, list[Any]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_schema_state)
    finally:
        await engine.dispose()


async def test_open_migrates_to_head_matching_the_table_definitions(database_url: str) -> None:
    store = await Store.open(database_url)
    await store.close()

    tables, revision, differences = await _inspect(database_url)

    assert tables >= TABLES
    assert revision == "0004"
    assert differences == []


async def test_reopen_is_idempotent_and_keeps_data(database_url: str) -> None:
    store = await Store.open(database_url)
    conversation_id = await store.current_conversation("telegram:1")
    await store.save_turn(conversation_id, "t1", [NewMessage("user", "hello")], None)
    await store.close()

    for _ in range(2):
        store = await Store.open(database_url)
        assert await store.current_conversation("telegram:1") == conversation_id
        assert await store.count_messages(conversation_id) == 1
        await store.close()

    _, revision, _ = await _inspect(database_url)
    assert revision == "0004"


async def test_dialect_reports_backend(store: Store, database_url: str) -> None:
    assert store.dialect == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
