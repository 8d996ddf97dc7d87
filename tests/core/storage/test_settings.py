"""Scoped settings: upsert, clear and one-query reads across scopes."""

from __future__ import annotations

from core.storage import ScopeKey, Store

PLATFORM = ScopeKey("telegram")
CHAT = ScopeKey("telegram", "100")
USER_IN_CHAT = ScopeKey("telegram", "100", "42")


async def test_settings_upsert_get_and_clear_across_scopes(store: Store) -> None:
    await store.set_setting(PLATFORM, "model", "gpt-a")
    await store.set_setting(CHAT, "model", "gpt-b")
    await store.set_setting(CHAT, "limits", {"daily": 100, "models": ["a", "b"]})
    await store.set_setting(USER_IN_CHAT, "language", "zh")
    await store.set_setting(USER_IN_CHAT, "language", "en")  # upsert replaces

    found = await store.get_settings([PLATFORM, CHAT, USER_IN_CHAT])

    assert found == {
        PLATFORM: {"model": "gpt-a"},
        CHAT: {"model": "gpt-b", "limits": {"daily": 100, "models": ["a", "b"]}},
        USER_IN_CHAT: {"language": "en"},
    }

    assert await store.clear_setting(CHAT, "model") is True
    assert await store.clear_setting(CHAT, "model") is False
    assert (await store.get_settings([CHAT]))[CHAT] == {
        "limits": {"daily": 100, "models": ["a", "b"]}
    }


async def test_get_settings_returns_requested_scopes_only(store: Store) -> None:
    await store.set_setting(ScopeKey("discord"), "model", "gpt-d")
    await store.set_setting(ScopeKey("telegram", "999"), "model", "gpt-x")

    found = await store.get_settings([PLATFORM, CHAT])

    assert found == {PLATFORM: {}, CHAT: {}}
    assert await store.get_settings([]) == {}


async def test_setting_values_keep_their_json_types(store: Store) -> None:
    values = {"flag": True, "count": 3, "ratio": 0.5, "nothing": None, "items": [1, "two"]}
    for name, value in values.items():
        await store.set_setting(USER_IN_CHAT, name, value)

    assert (await store.get_settings([USER_IN_CHAT]))[USER_IN_CHAT] == values
