"""Foundation: persistent actions (buttons) and one usage-ledger row per gateway call.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "actions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("who", sa.String(16), nullable=False),
        sa.Column("payload", json, nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("expires_at", timestamp, nullable=True),
    )
    op.create_index("ix_actions_platform_chat_id", "actions", ["platform", "chat_id"])
    with op.batch_alter_table("usage_ledger") as batch:
        batch.add_column(sa.Column("outcome", sa.String(16), nullable=False,
                                   server_default="ok"))
        batch.add_column(sa.Column("units", sa.Numeric(18, 6), nullable=True))
        batch.add_column(sa.Column("unit", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage_ledger") as batch:
        batch.drop_column("unit")
        batch.drop_column("units")
        batch.drop_column("outcome")
    op.drop_index("ix_actions_platform_chat_id", table_name="actions")
    op.drop_table("actions")
