"""Every DATABASE_URL form a user may write (``core.storage.urls``): the bot starts
and a conversation keeps its history across turns, or start fails with one clear
line naming DATABASE_URL."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from core.app import ChatCore, open_store
from core.config import SettingsError, load_settings
from tests.core.conftest import GROUP, PRIVATE, CoreFactory, say
from tests.core.storage.conftest import _reset_postgres, postgres_url
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_replies import Text

IN_MEMORY = [
    "sqlite://",
    "sqlite+aiosqlite://",
    "sqlite:///:memory:",
    "sqlite+aiosqlite:///:memory:",
    "sqlite:///file::memory:?uri=true",
    "sqlite:///file::memory:?cache=shared&uri=true",
    "sqlite:///file:chats?mode=memory&uri=true",
]
IN_A_FILE = [  # (URL, file it must create), relative to the working directory
    ("sqlite:///relative/path.db", "relative/path.db"),
    ("sqlite+aiosqlite:///./data/chatbridge.db", "data/chatbridge.db"),
    ("sqlite:///{tmp}/abs/path.db", "abs/path.db"),  # sqlite:////tmp/.../abs/path.db
    ("sqlite:///file:name.db?mode=rwc&uri=true", "name.db"),
    ("sqlite:///file:sub/dir/name.db?uri=true", "sub/dir/name.db"),
    ("sqlite:///file:{tmp}/uri-abs.db?uri=true&timeout=5", "uri-abs.db"),
]


async def two_turns_remember(core: ChatCore, fake_gateway: FakeGateway) -> None:
    """User says "remember kiwi", then asks: the second request carries the first turn."""
    await say(core, "remember the word kiwi")
    await say(core, "what was the word?")
    contents = [m["content"] for m in fake_gateway.chat_requests()[-1]["messages"]]
    assert contents == ["remember the word kiwi", "echo: remember the word kiwi",
                        "what was the word?"]


@pytest.mark.parametrize("url", IN_MEMORY)
async def test_in_memory_sqlite_is_one_database_for_the_process(
        url: str, make_core: CoreFactory, fake_gateway: FakeGateway,
        caplog: pytest.LogCaptureFixture, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.WARNING, logger="core.storage.engine"):
        core = await make_core(database_url=url)
    assert any("in-memory" in r.getMessage() and "lost when the process exits"
               in r.getMessage() for r in caplog.records)
    await two_turns_remember(core, fake_gateway)
    assert list(tmp_path.iterdir()) == []  # no file named ":memory:" or "file:..."


async def test_in_memory_sqlite_serves_concurrent_chats(
        make_core: CoreFactory, fake_gateway: FakeGateway) -> None:
    """Two chats answer at the same time on the ONE in-memory connection: each keeps
    its own history (no transaction of one shared with, or rolled back by, the other)."""
    core = await make_core(database_url="sqlite://")
    fake_gateway.script(*[Text(f"answer {n}", chunk_size=2, delay=0.005) for n in range(4)])
    await asyncio.gather(say(core, "private one", PRIVATE), say(core, "group one", GROUP))
    await asyncio.gather(say(core, "private two", PRIVATE), say(core, "group two", GROUP))
    sent = {r["messages"][-1]["content"]: [m["content"] for m in r["messages"]]
            for r in fake_gateway.chat_requests()}
    assert sent["private two"][0] == "private one" and len(sent["private two"]) == 3
    assert sent["group two"][0].endswith("group one") and len(sent["group two"]) == 3


@pytest.mark.parametrize(("url", "created"), IN_A_FILE)
async def test_sqlite_file_forms_store_in_that_file(
        url: str, created: str, make_core: CoreFactory, fake_gateway: FakeGateway,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = url.format(tmp=tmp_path)
    core = await make_core(database_url=url)
    await two_turns_remember(core, fake_gateway)
    assert (tmp_path / created).is_file()
    await core.close()
    again = await make_core(database_url=url)  # restart: the file still holds the chat
    await say(again, "and now?")
    contents = [m["content"] for m in fake_gateway.chat_requests()[-1]["messages"]]
    assert contents[0] == "remember the word kiwi" and contents[-1] == "and now?"


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg2"])
async def test_postgresql_forms_run_on_asyncpg(
        scheme: str, make_core: CoreFactory, fake_gateway: FakeGateway) -> None:
    test_url = postgres_url()
    await _reset_postgres(test_url)
    url = make_url(test_url).set(drivername=scheme).render_as_string(hide_password=False)
    core = await make_core(database_url=url)
    assert core.store.dialect == "postgresql"
    await two_turns_remember(core, fake_gateway)


@pytest.mark.parametrize(("url", "message"), [
    ("mysql://u:hunter2@h/db", "unsupported database URL 'mysql://u:***@h/db'; "
                               "use sqlite or postgresql"),
    ("mysql+aiomysql://h/db", "unsupported database URL"),
    ("oracle://h/db", "unsupported database URL"),
    ("not a url", "must be a sqlite:/// or postgresql:// URL"),
    ("sqlite://data/chatbridge.db", "a SQLite URL has no host or user"),  # two slashes
    ("sqlite://u:hunter2@h/x.db", "a SQLite URL has no host or user"),
    ("sqlite:///file:name.db", "is an SQLite URI filename: add ?uri=true"),
    ("sqlite:///file:name.db?mode=rwc", "is an SQLite URI filename: add ?uri=true"),
    ("sqlite:///x.db?mode=ro", "SQLite URL arguments mode need uri=true"),
    ("sqlite:///x.db?cache=shared&mode=memory", "arguments cache, mode need uri=true"),
])
def test_an_unusable_url_fails_at_start_with_one_line(url: str, message: str,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)
    text = str(raised.value)
    assert text.startswith("invalid setting DATABASE_URL: ") and message in text
    assert "\n" not in text and "hunter2" not in text
    assert list(tmp_path.iterdir()) == []  # nothing created


async def test_an_unusable_url_given_to_the_store_directly_is_named(tmp_path: Path) -> None:
    """Settings built without validation (model_construct) still fail clearly at open."""
    with pytest.raises(SettingsError, match=r"^invalid setting DATABASE_URL: cannot open "
                                            r"the database \(ValueError: unsupported"):
        await open_store("mysql://u:hunter2@h/db")
