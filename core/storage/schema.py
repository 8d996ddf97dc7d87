"""Table definitions (SQLAlchemy Core) used by the repositories at run time.

The migrations in ``migrations/versions`` create the same schema; a test checks
that both stay in sync.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""64-bit ids on PostgreSQL; SQLite only auto-increments ``INTEGER PRIMARY KEY``."""


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with NUL and lone UTF-16 surrogates replaced by U+FFFD. A JSON
    ``\\ud800`` or ``\\u0000`` escape (in a platform update, a gateway delta, a tool's
    output) decodes to one; UTF-8 cannot encode a surrogate and PostgreSQL text/jsonb
    cannot hold NUL, so storing it (or encoding a request body) would fail."""
    if text.isascii() and "\x00" not in text:
        return text
    return _UNSTORABLE.sub("\ufffd", text)


def clean_json(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, strings, numbers) with ``clean_text``
    applied to every string, keys included; unchanged objects are returned as is."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean_json(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(item) for item in value]
    return value


class _CleanStr(sa.types.TypeDecorator[str]):
    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else clean_text(value)


class CleanText(_CleanStr):
    """Text from outside (users, models, tools, gateways): stored through
    ``clean_text``, so one bad character cannot fail a whole turn's write."""

    impl = sa.Text
    cache_ok = True


class CleanString(_CleanStr):
    """``CleanText`` in a ``VARCHAR(length)``."""

    cache_ok = True


class CleanJSON(sa.types.TypeDecorator[Any]):
    """JSON (JSONB on PostgreSQL) stored through ``clean_json``."""

    impl = sa.JSON
    cache_ok = True

    def __init__(self, *, none_as_null: bool = False) -> None:
        super().__init__(none_as_null=none_as_null)
        self.none_as_null = none_as_null

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB(none_as_null=self.none_as_null))
        return dialect.type_descriptor(sa.JSON(none_as_null=self.none_as_null))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return clean_json(value)


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
    sa.Column("content", CleanText(), nullable=False),
    sa.Column("media", CleanJSON(none_as_null=True), nullable=True),
    sa.Column("name", CleanString(128), nullable=True),
    sa.Column("tool_call_id", CleanString(128), nullable=True),
    sa.Column("tool_calls", CleanJSON(none_as_null=True), nullable=True),
    sa.Column("tokens", sa.Integer(), nullable=False),
    sa.Column("model", CleanString(200), nullable=True),
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
    sa.Column("value", CleanJSON(), nullable=False),
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
    sa.Column("model", CleanString(200), nullable=False),
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
    sa.Column("payload", CleanJSON(), nullable=False),
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
    sa.Column("prompt", CleanText(), nullable=False),
    sa.Column("image_url", CleanText(), nullable=False),
    sa.Column("buttons", CleanJSON(), nullable=False),
    sa.Column("parent_id", sa.String(64), nullable=True),
    sa.Column("fail_reason", CleanText(), nullable=False),
    sa.Column("speed", sa.String(8), nullable=False),
    sa.Column("properties", CleanJSON(), nullable=False),
    sa.Column("notified", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("shown", CleanJSON(), nullable=False, server_default=sa.text("'{}'")),
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
