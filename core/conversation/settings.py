"""Settings scopes: user-in-chat > chat > global (stored) > configured defaults."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from core.conversation.keys import GLOBAL_SCOPE, Actor, ChatRef, chat_scope, user_in_chat_scope
from core.storage import ScopeKey, Store

USER = "user"
CHAT = "chat"
GLOBAL = "global"
DEFAULT = "default"

REPLY_MODES = ("mention", "all", "command")
CONTEXT_MODES = ("shared", "per_user")
USER_SETTINGS = ("model", "persona", "temperature", "language")
IMAGE_BUTTONS = ("requester", "anyone")
IMAGE_LIMIT_SETTINGS = ("image_daily_allowance", "image_jobs_per_chat", "image_jobs_per_user")
"""Image-job limits (ints >= 0, 0 = unlimited): images per user per day, concurrent
jobs per chat and per user in a chat (see ``core.image_jobs``)."""
CHAT_ONLY_SETTINGS = ("reply_mode", "context_mode", "tools", *IMAGE_LIMIT_SETTINGS,
                      "image_buttons")
"""Settings only a chat (or the global scope) sets; ``tools`` is a list of the tool
names the chat may use (None: every registered tool); ``image_buttons`` is who may
press an image result's buttons (``IMAGE_BUTTONS``)."""

CACHE_SIZE = 50_000
"""Scopes cached at most; the cache starts over when full."""

CHAT_INDEX_LIMIT = 10_000
"""Chats with stored settings ``SettingsService.load_index`` keeps at most (a few MB;
our choice). With more, the index is off and a new chat's scopes are read."""

_Layers = dict[ScopeKey, dict[str, Any]]


def _consume_result(task: asyncio.Future[_Layers]) -> None:
    """Mark a load's exception as retrieved when every caller was cancelled."""
    if not task.cancelled():
        task.exception()


@dataclass(frozen=True, slots=True)
class Resolved:
    """One effective value and the scope it came from."""

    value: Any
    source: str


@dataclass(frozen=True, slots=True)
class EffectiveSettings:
    """All effective settings of one user in one chat."""

    values: dict[str, Resolved]

    def __getitem__(self, name: str) -> Any:
        return self.values[name].value

    def source(self, name: str) -> str:
        """Which scope the value of ``name`` came from."""
        return self.values[name].source


@dataclass(frozen=True, slots=True)
class ChatOptions:
    """How a group chat behaves: when the bot answers and whose context is shared."""

    reply_mode: str = "mention"
    per_user: bool = False


class SettingsService:
    """Reads and writes scoped settings, with a small in-process cache.

    Concurrent resolves that miss the cache for the same scope share one load.
    ``set``/``clear`` invalidate the scope: later reads in this process load it
    again, and a load that was in flight during the write is not cached.

    After ``load_index`` it also knows which chats have any stored setting, so the
    scopes of any other chat are empty without a read: the first message of a new
    chat waits for one database hop less (bench/core_turns.py, overhead p99 of the
    40-message line 5.3-5.7 -> ~4.4 ms). ``set`` and ``forget_chat`` keep it current
    in this process; ``ChatCore`` loads it on SQLite only (one process per file),
    not on PostgreSQL, where other processes may store settings."""

    def __init__(self, store: Store, defaults: dict[str, Any]) -> None:
        self._store = store
        self._defaults = dict(defaults)
        self._cache: _Layers = {}
        self._loading: dict[ScopeKey, asyncio.Task[_Layers]] = {}
        self._chats: set[tuple[str, str]] | None = None
        """``(platform, chat_id)`` that may have stored settings; None: unknown."""

    async def load_index(self) -> None:
        """Learn which chats have stored settings (one query; at most
        ``CHAT_INDEX_LIMIT``, else the index stays off)."""
        chats = await self._store.chats_with_settings(CHAT_INDEX_LIMIT + 1)
        self._chats = chats if len(chats) <= CHAT_INDEX_LIMIT else None

    def _may_have_settings(self, platform: str, chat_id: str) -> None:
        if self._chats is not None:
            self._chats.add((platform, chat_id))
            if len(self._chats) > CHAT_INDEX_LIMIT:
                self._chats = None

    async def _load(self, scopes: list[ScopeKey]) -> _Layers:
        layers: _Layers = {}
        waits: dict[ScopeKey, asyncio.Task[_Layers]] = {}
        missing: list[ScopeKey] = []
        for scope in scopes:
            if scope in layers or scope in waits or scope in missing:
                continue  # a scope listed twice is loaded once
            if scope in self._cache:
                layers[scope] = self._cache[scope]
            elif self._chats is not None and (scope.platform, scope.chat_id) not in self._chats:
                layers[scope] = {}  # a chat without stored settings: nothing to read
            elif scope in self._loading:
                waits[scope] = self._loading[scope]
            else:
                missing.append(scope)
        if missing:
            task = asyncio.ensure_future(self._fetch(missing))
            task.add_done_callback(_consume_result)
            for scope in missing:
                self._loading[scope] = task
                waits[scope] = task
        for scope, shared in waits.items():
            # shield: a cancelled caller must not cancel a load shared with others.
            layers[scope] = (await asyncio.shield(shared))[scope]
        return layers

    async def _fetch(self, scopes: list[ScopeKey]) -> _Layers:
        this = asyncio.current_task()
        try:
            loaded = await self._store.get_settings(scopes)
        finally:
            # Scopes invalidated meanwhile (set/clear) are no longer ours to cache.
            ours = [scope for scope in scopes if self._loading.get(scope) is this]
            for scope in ours:
                del self._loading[scope]
        if len(self._cache) + len(ours) > CACHE_SIZE:
            self._cache.clear()
        for scope in ours:
            self._cache[scope] = loaded.get(scope, {})
        return {scope: loaded.get(scope, {}) for scope in scopes}

    async def resolve(self, chat: ChatRef, actor: Actor) -> EffectiveSettings:
        """Resolve every setting for ``actor`` in ``chat``."""
        user_scope, chat_scope_key = user_in_chat_scope(chat, actor), chat_scope(chat)
        layers = await self._load([user_scope, chat_scope_key, GLOBAL_SCOPE])
        values: dict[str, Resolved] = {}
        for name, default in self._defaults.items():
            ordered = (
                ((CHAT, chat_scope_key), (GLOBAL, GLOBAL_SCOPE))
                if name in CHAT_ONLY_SETTINGS
                else ((USER, user_scope), (CHAT, chat_scope_key), (GLOBAL, GLOBAL_SCOPE))
            )
            values[name] = Resolved(default, DEFAULT)
            for source, scope in ordered:
                if name in layers[scope]:
                    values[name] = Resolved(layers[scope][name], source)
                    break
        return EffectiveSettings(values)

    async def chat_options(self, chat: ChatRef) -> ChatOptions:
        """The group behaviour of ``chat`` (private chats always answer everything)."""
        if chat.is_private:
            return ChatOptions(reply_mode="all", per_user=False)
        layers = await self._load([chat_scope(chat), GLOBAL_SCOPE])
        merged = {**self._defaults, **layers[GLOBAL_SCOPE], **layers[chat_scope(chat)]}
        return ChatOptions(
            reply_mode=str(merged.get("reply_mode", "mention")),
            per_user=merged.get("context_mode") == "per_user",
        )

    async def chat_setting(self, chat: ChatRef, name: str) -> Any:
        """The effective value of the chat setting ``name`` in ``chat``: chat scope,
        else global, else the configured default (None when there is none)."""
        layers = await self._load([chat_scope(chat), GLOBAL_SCOPE])
        for scope in (chat_scope(chat), GLOBAL_SCOPE):
            if name in layers[scope]:
                return layers[scope][name]
        return self._defaults.get(name)

    def scope_key(self, scope: str, chat: ChatRef, actor: Actor) -> ScopeKey:
        """The storage key of a named scope (``user``/``chat``/``global``)."""
        if scope == CHAT:
            return chat_scope(chat)
        if scope == GLOBAL:
            return GLOBAL_SCOPE
        return user_in_chat_scope(chat, actor)

    async def set(self, key: ScopeKey, name: str, value: Any) -> None:
        """Store ``name = value`` at ``key``."""
        self._may_have_settings(key.platform, key.chat_id)  # before the write: reads see it
        await self._store.set_setting(key, name, value)
        self._invalidate(key)

    async def clear(self, key: ScopeKey, name: str) -> bool:
        """Remove ``name`` at ``key``; True when something was removed."""
        removed = await self._store.clear_setting(key, name)
        self._invalidate(key)
        return removed

    def forget_chat(self, platform: str, chat_id: str) -> None:
        """Invalidate every cached scope of one chat (after its rows moved)."""
        self._may_have_settings(platform, chat_id)
        for key in [k for k in (*self._cache, *self._loading)
                    if k.platform == platform and k.chat_id == chat_id]:
            self._invalidate(key)

    def _invalidate(self, key: ScopeKey) -> None:
        self._cache.pop(key, None)
        self._loading.pop(key, None)
