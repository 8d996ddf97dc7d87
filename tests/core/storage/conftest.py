"""Fixtures running every storage test on SQLite (tmp file) and PostgreSQL.

PostgreSQL comes from ``TEST_POSTGRES_URL`` (see ``.ci/postgres.sh``); when it is
not reachable those parameters are skipped with the reason shown by ``pytest -rs``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.storage import Store
from core.storage.engine import create_engine

DEFAULT_TEST_POSTGRES_URL = (
    "postgresql+asyncpg://chatbridge:chatbridge@127.0.0.1:5432/chatbridge_test"
)
_DROP_ALL = (
    "DROP TABLE IF EXISTS mj_tasks, actions, usage_ledger, settings, messages, conversations, "
    "alembic_version CASCADE"
)
_unreachable: dict[str, str] = {}


def postgres_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL


async def _reset_postgres(url: str) -> None:
    """Drop the schema so each test starts from an empty, unmigrated database."""
    if url in _unreachable:
        pytest.skip(_unreachable[url])
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text(_DROP_ALL))
    except (OSError, sa.exc.SQLAlchemyError) as error:
        shown = make_url(url).render_as_string(hide_password=True)
        _unreachable[url] = (
            f"PostgreSQL not reachable at {shown} ({type(error).__name__}); "
            "set TEST_POSTGRES_URL or run `source .ci/postgres.sh`"
        )
        pytest.skip(_unreachable[url])
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database of the parametrized backend."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'db' / 'chatbridge.db'}"
    url = postgres_url()
    await _reset_postgres(url)
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()
