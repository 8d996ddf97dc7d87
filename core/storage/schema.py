"""Table definitions (SQLAlchemy Core) used by the repositories at run time.

The migrations in ``migrations/versions`` create the same schema; a test checks
that both stay in sync.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""64-bit ids on PostgreSQL; SQLite only auto-increments ``INTEGER PRIMARY KEY``."""


def json_type(*, none_as_null: bool = False) -> sa.types.TypeEngine[Any]:
    """JSON everywhere, JSONB on PostgreSQL."""
    return sa.JSON(none_as_null=none_as_null).with_variant(
        postgresql.JSONB(none_as_null=none_as_null), "postgresql"
    )


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


metadata = sa.MetaData()

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", BigIntId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("archived_at", UTCDateTime(), nullable=True),
    sa.Index("ix_conversations_key_archived_at", "key", "archived_at"),
    # At most one open (current) conversation per key.
    sa.Index(
        "uq_conversations_open_key",
        "key",
        unique=True,
        sqlite_where=sa.text("archived_at IS NULL"),
        postgresql_where=sa.text("archived_at IS NULL"),
    ),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", BigIntId, primary_key=True, autoincrement=True),
    sa.Column(
        "conversation_id",
        BigIntId,
        sa.ForeignKey("conversations.id", ondelete="CASCADE", name="fk_messages_conversation_id"),
        nullable=False,
    ),
    sa.Column("turn_id", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("content", sa.Text(), nullable=False),
    sa.Column("media", json_type(none_as_null=True), nullable=True),
    sa.Column("name", sa.String(128), nullable=True),
    sa.Column("tool_call_id", sa.String(128), nullable=True),
    sa.Column("tool_calls", json_type(none_as_null=True), nullable=True),
    sa.Column("tokens", sa.Integer(), nullable=False),
    sa.Column("model", sa.String(200), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint("role IN ('system', 'user', 'assistant', 'tool')", name="ck_messages_role"),
    sa.Index("ix_messages_conversation_id_id", "conversation_id", "id"),
)

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("chat_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("value", json_type(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("platform", "chat_id", "user_id", "name", name="pk_settings"),
)

usage_ledger = sa.Table(
    "usage_ledger",
    metadata,
    sa.Column("id", BigIntId, primary_key=True, autoincrement=True),
    sa.Column("turn_id", sa.String(64), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("chat_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("prompt_tokens", sa.Integer(), nullable=False),
    sa.Column("completion_tokens", sa.Integer(), nullable=False),
    sa.Column("estimated", sa.Boolean(), nullable=False),
    sa.Column("cost", sa.Numeric(18, 8, asdecimal=False), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False, server_default="ok"),
    sa.Column("units", sa.Numeric(18, 6, asdecimal=False), nullable=True),
    sa.Column("unit", sa.String(16), nullable=True),
    sa.Index("ix_usage_ledger_platform_user_id_created_at", "platform", "user_id", "created_at"),
)
"""One row per gateway call. ``kind``: chat | image | mj | audio | embedding | moderation;
``outcome``: ok | failed | cancelled; tokens as the gateway reported them (``estimated``
when counted locally); ``units``/``unit``: images, seconds or characters for non-token
calls; ``cost`` in the catalog's currency (USD unless the catalog says otherwise)."""

actions = sa.Table(
    "actions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("chat_id", sa.String(64), nullable=False),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("who", sa.String(16), nullable=False),
    sa.Column("payload", json_type(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.Index("ix_actions_platform_chat_id", "platform", "chat_id"),
)
"""Buttons' state (see core.actions): a short id that platforms carry in callback_data /
custom_id, the action ``kind`` and its JSON ``payload``, who may press it."""


mj_tasks = sa.Table(
    "mj_tasks",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("progress", sa.String(8), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("chat_id", sa.String(64), nullable=False),
    sa.Column("thread_id", sa.String(64), nullable=False),
    sa.Column("is_private", sa.Boolean(), nullable=False),
    sa.Column("request_message_id", sa.String(64), nullable=False),
    sa.Column("requester_id", sa.String(64), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("prompt", sa.Text(), nullable=False),
    sa.Column("image_url", sa.Text(), nullable=False),
    sa.Column("buttons", json_type(), nullable=False),
    sa.Column("parent_id", sa.String(64), nullable=True),
    sa.Column("fail_reason", sa.Text(), nullable=False),
    sa.Column("speed", sa.String(8), nullable=False),
    sa.Column("properties", json_type(), nullable=False),
    sa.Column("notified", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("shown", json_type(), nullable=False, server_default=sa.text("'{}'")),
    sa.Index("ix_mj_tasks_notified", "notified"),
)
"""Midjourney tasks this bot submitted (see core.midjourney): the gateway's task id,
``action`` (IMAGINE, UPSCALE, MODAL, …), last seen ``status``/``progress``, where to post
the result (chat, thread, the request's platform message id, requester, language), the
``prompt``, last ``image_url``, ``buttons`` (customId list), ``properties`` (the task's
properties plus ours: image width/height, mask cells), ``notified``: the result was
handed to the chat (or the requester stopped following it), ``shown``: part ref → the
platform messages showing it (``ShownAt.to_json``; the progress message to continue
after a restart)."""


def dialect_insert(dialect: str, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    """``INSERT`` with the dialect's ``ON CONFLICT`` support."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
