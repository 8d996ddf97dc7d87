"""Persistent storage: SQLAlchemy Core on SQLite (default) or PostgreSQL, migrated by
Alembic when a ``Store`` opens."""

from core.storage.engine import DEFAULT_URL, normalize_url
from core.storage.store import Store
from core.storage.types import NewMessage, ScopeKey, StoredMessage, UsageRecord

__all__ = [
    "DEFAULT_URL",
    "NewMessage",
    "ScopeKey",
    "Store",
    "StoredMessage",
    "UsageRecord",
    "normalize_url",
]
