"""``DATABASE_URL`` forms: which ones are accepted, what each one opens.

SQLite (driver pinned to aiosqlite; SQLAlchemy's "sqlite" dialect docs):

- ``sqlite://``, ``sqlite+aiosqlite://``, ``sqlite:///:memory:``: an in-memory
  database, ONE per process, shared by all its connections (``StaticPool``), so
  history survives across turns. Everything is lost when the process exits.
- ``sqlite:///relative/path.db``: a file relative to the working directory;
  ``sqlite:////abs/path.db``: an absolute path. The parent directory is created.
- ``sqlite:///file:name.db?mode=rwc&uri=true``: an SQLite URI filename
  (https://sqlite.org/uri.html) for a file; ``uri=true`` is required, as in
  SQLAlchemy (without it sqlite3 opens a file literally named ``file:name.db``).
  ``sqlite:///file::memory:?uri=true`` or ``...?mode=memory&uri=true`` is in-memory.

PostgreSQL: ``postgres://``, ``postgresql://`` and ``postgresql+<any driver>://`` run
on asyncpg; libpq's ``sslmode=`` is passed as asyncpg's ``ssl=`` (same values).

Anything else raises ``ValueError`` with a one-line message (shown at start as
``invalid setting DATABASE_URL: ...``; the password is never part of it).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

_SQLITE_FORMS = ("sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite:// "
                 "(in memory) or sqlite:///file:name.db?uri=true")
_PYSQLITE_ARGS = frozenset({"uri", "timeout", "isolation_level", "detect_types",
                            "check_same_thread", "cached_statements"})
"""Query arguments sqlite3.connect takes (SQLAlchemy pysqlite ``create_connect_args``);
without ``uri=true`` any other one would be silently ignored."""


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def normalize_url(url: str) -> URL:
    """Parse ``url`` and pin the async driver (aiosqlite / asyncpg).

    Raises ``ValueError`` (one line, password hidden) for a backend other than SQLite
    or PostgreSQL, a text that is no URL, a SQLite URL with a host or user (e.g.
    ``sqlite://data/x.db``: two slashes), a ``file:`` name without ``uri=true`` and
    SQLite query arguments that would be ignored (no ``uri=true``)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError("must be a sqlite:/// or postgresql:// URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _check_sqlite(parsed)
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        query = dict(parsed.query)
        if "sslmode" in query:  # libpq spelling; asyncpg.connect takes ssl= (same values)
            query.setdefault("ssl", query.pop("sslmode"))
        return parsed.set(drivername="postgresql+asyncpg", query=query)
    raise ValueError(f"unsupported database URL {_shown(parsed)!r}; use sqlite or postgresql")


def _check_sqlite(url: URL) -> None:
    if url.username or url.password or url.host or url.port:
        raise ValueError(f"a SQLite URL has no host or user: {_shown(url)!r}; use {_SQLITE_FORMS}")
    if _uri(url):
        return
    if (url.database or "").startswith("file:"):
        raise ValueError(f"{_shown(url)!r} is an SQLite URI filename: add ?uri=true")
    ignored = sorted(set(url.query) - _PYSQLITE_ARGS)
    if ignored:
        raise ValueError(f"SQLite URL arguments {', '.join(ignored)} need uri=true "
                         f"(an SQLite URI filename: sqlite:///file:name.db?...&uri=true)")


def _uri(url: URL) -> bool:
    return str(url.query.get("uri", "")).lower() in ("true", "1")


def sqlite_in_memory(url: URL) -> bool:
    """Whether a SQLite ``url`` (as ``normalize_url`` accepts it) is an in-memory
    database: no name, ``:memory:``, or a URI filename ``file::memory:`` or with
    ``mode=memory``."""
    database = url.database or ""
    if database in ("", ":memory:"):
        return True
    return _uri(url) and (database.startswith("file::memory:")
                          or url.query.get("mode") == "memory")


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite ``url`` (relative to the working directory unless
    absolute); None when in memory."""
    if sqlite_in_memory(url):
        return None
    database = url.database or ""
    if _uri(url) and database.startswith("file:"):
        return Path(unquote(urlsplit(database).path))
    return Path(database)
