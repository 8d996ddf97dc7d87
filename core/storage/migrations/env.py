"""Alembic environment: runs on the connection passed in ``config.attributes``.

Migrations are applied by ``core.storage.engine.migrate`` (called from
``Store.open``), which hands over a synchronous connection of the async engine.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from core.storage.schema import metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError(
        "run migrations through core.storage.engine.migrate(); "
        "config.attributes['connection'] must hold a Connection"
    )
run_migrations(_connection)
