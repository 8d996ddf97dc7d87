"""SettingsService: shared loads for concurrent cache misses, immediate invalidation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from core.conversation.keys import Actor, ChatRef, chat_scope
from core.conversation.settings import SettingsService
from core.storage import ScopeKey, Store

CHAT = ChatRef("test", "-1")
DEFAULTS = {"model": "gpt-d", "persona": "", "temperature": None, "language": "",
            "reply_mode": "mention", "context_mode": "shared"}


class CountingStore:
    """Counts ``get_settings`` calls; optionally holds their (already read) answers
    until ``gate`` is set."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: list[list[ScopeKey]] = []
        self.gate: asyncio.Event | None = None
        self.held = 0  # loads that have read the store and wait at ``gate``

    async def get_settings(self, scopes: Sequence[ScopeKey]) -> dict[ScopeKey, dict[str, Any]]:
        self.calls.append(list(scopes))
        found = await self.store.get_settings(scopes)
        if self.gate is not None:
            self.held += 1
            await self.gate.wait()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@pytest.fixture
async def counting(tmp_path: Path) -> AsyncIterator[CountingStore]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'settings.db'}")
    try:
        yield CountingStore(store)
    finally:
        await store.close()


async def loads_held(counting: CountingStore) -> None:
    """Barrier: every store load issued so far (at least one) has read its rows and waits
    at the gate.  Resolvers issue their loads before their first real await."""
    async with asyncio.timeout(5):
        while not 0 < counting.held == len(counting.calls):
            await asyncio.sleep(0.001)


def service(counting: CountingStore) -> SettingsService:
    return SettingsService(counting, DEFAULTS)  # type: ignore[arg-type]


async def test_concurrent_resolves_share_one_load_per_scope(counting: CountingStore) -> None:
    settings = service(counting)
    await settings.set(chat_scope(CHAT), "model", "gpt-chat")
    counting.gate = asyncio.Event()
    actors = [Actor("test", str(index)) for index in range(50)]
    resolving = asyncio.gather(*(settings.resolve(CHAT, actor) for actor in actors * 2))
    await loads_held(counting)  # all 100 resolvers asked; no load has answered yet
    counting.gate.set()
    resolved = await resolving

    assert all(effective["model"] == "gpt-chat" for effective in resolved)
    loaded = [scope for call in counting.calls for scope in call]
    assert len(loaded) == len(set(loaded)) == 52  # 50 users, the chat, global: once each
    await settings.chat_options(CHAT)
    await settings.resolve(CHAT, actors[0])
    assert len([scope for call in counting.calls for scope in call]) == 52  # cached


async def test_a_write_during_a_load_is_visible_to_later_resolves(
    counting: CountingStore,
) -> None:
    settings = service(counting)
    actor = Actor("test", "7")
    counting.gate = asyncio.Event()
    stale = asyncio.ensure_future(settings.resolve(CHAT, actor))
    await loads_held(counting)  # its load is held in flight
    await settings.set(chat_scope(CHAT), "model", "gpt-new")
    counting.gate.set()
    assert (await stale)["model"] == "gpt-d"  # read before the write
    assert (await settings.resolve(CHAT, actor))["model"] == "gpt-new"
    assert (await settings.resolve(CHAT, actor)).source("model") == "chat"

    assert await settings.clear(chat_scope(CHAT), "model")
    assert (await settings.resolve(CHAT, actor))["model"] == "gpt-d"


async def test_a_cancelled_resolver_does_not_break_the_shared_load(
    counting: CountingStore,
) -> None:
    settings = service(counting)
    counting.gate = asyncio.Event()
    first = asyncio.ensure_future(settings.resolve(CHAT, Actor("test", "1")))
    second = asyncio.ensure_future(settings.resolve(CHAT, Actor("test", "1")))
    await loads_held(counting)
    first.cancel()
    counting.gate.set()
    assert (await second)["model"] == "gpt-d"
    assert len(counting.calls) == 1


async def test_with_the_index_a_chat_without_stored_settings_is_resolved_without_a_read(
        counting: CountingStore) -> None:
    """The first message of a new chat reads no settings (bench/core_turns.py cold
    turns); once a setting is stored in it (or, after a restart, found stored) its
    scopes are read."""
    settings = service(counting)
    await settings.load_index()
    newcomer = ChatRef("test", "-2")
    assert (await settings.resolve(newcomer, Actor("test", "7")))["model"] == "gpt-d"
    assert counting.calls == []
    await settings.set(chat_scope(newcomer), "model", "gpt-new")
    assert (await settings.resolve(newcomer, Actor("test", "7")))["model"] == "gpt-new"
    assert [scope.chat_id for call in counting.calls for scope in call] == ["-2", "-2"]
    restarted = service(counting)  # a new process on the same database
    await restarted.load_index()
    counting.calls.clear()
    assert (await restarted.resolve(newcomer, Actor("test", "8")))["model"] == "gpt-new"
    assert (await restarted.resolve(CHAT, Actor("test", "8")))["model"] == "gpt-d"
    assert [scope.chat_id for call in counting.calls for scope in call] == ["-2", "-2"]


async def test_a_chat_whose_settings_moved_in_is_read(counting: CountingStore) -> None:
    """A group migrated to a new id (ChatCore.migrate_chat): ``forget_chat`` marks the
    new id, so its moved settings are read (a fresh tester's race is gone: the index
    is loaded once, at start, and only grows)."""
    settings = service(counting)
    await settings.set(chat_scope(CHAT), "model", "glm-4")
    await settings.load_index()
    moved = ChatRef("test", "-1001")
    assert (await settings.resolve(moved, Actor("test", "7")))["model"] == "gpt-d"
    await counting.store.move_chat("test", CHAT.chat_id, moved.chat_id)
    settings.forget_chat("test", CHAT.chat_id)
    settings.forget_chat("test", moved.chat_id)
    assert (await settings.resolve(moved, Actor("test", "7")))["model"] == "glm-4"


async def test_more_chats_than_the_index_holds_turn_it_off(
        counting: CountingStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.conversation.settings.CHAT_INDEX_LIMIT", 1)
    settings = service(counting)
    await settings.set(chat_scope(CHAT), "model", "glm-4")
    await settings.set(chat_scope(ChatRef("test", "-3")), "model", "glm-4")
    await settings.load_index()
    counting.calls.clear()
    await settings.resolve(ChatRef("test", "-4"), Actor("test", "7"))
    assert [scope.chat_id for call in counting.calls for scope in call] == ["-4", "-4", ""]
