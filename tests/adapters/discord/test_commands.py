"""Slash commands: sync, autocomplete, /model scopes, localisation, ephemeral replies."""

from __future__ import annotations

from pathlib import Path

from core.app import ChatCore
from tests.adapters.discord.conftest import (
    ADMIN,
    USER,
    DiscordWorld,
    make_bot_settings,
    make_settings,
    start_bot,
)
from tests.fakes.discord import FakeDiscord
from tests.fakes.gateway import FakeGateway

OTHER = 5151


async def test_commands_sync_once_and_not_again_when_unchanged(world: DiscordWorld) -> None:
    puts = world.dc.calls_of("PUT", "/commands")
    assert len(puts) == 1 and f"/guilds/{world.dc.guild_id}/" in puts[0].path
    synced = world.dc.synced_commands[f"guild:{world.dc.guild_id}"]
    names = [c["name"] for c in synced]
    assert names == ["help", "chat", "new", "model", "models", "persona", "settings", "mode",
                     "cancel", "image", "edit", "vary", "mj", "blend", "describe", "shorten",
                     "seed", "swap"]
    chat = next(c for c in synced if c["name"] == "chat")
    assert chat["description_localizations"]["zh-CN"] == "向模型提问"
    assert [(o["name"], o["type"], o.get("required")) for o in chat["options"]] == [
        ("prompt", 3, True), ("model", 3, False), ("image", 11, False)]
    assert chat["options"][1]["autocomplete"] is True
    scope = next(o for o in next(c for c in synced if c["name"] == "model")["options"]
                 if o["name"] == "scope")
    assert [c["value"] for c in scope["choices"]] == ["me", "chat"]

    await world.bot.stop()  # a restart with the same command set does not resync
    world.bot = await start_bot(world.core, world.settings)
    assert world.bot.synced is False
    assert len(world.dc.calls_of("PUT", "/commands")) == 1


async def test_model_autocomplete_matches_as_you_type(world: DiscordWorld) -> None:
    choices = await world.dc.autocomplete("model", "name", "gpt-4", user_id=USER)
    assert 1 <= len(choices) <= 25
    assert all(c["value"].startswith("gpt-4") for c in choices)
    gpt4 = next(c for c in choices if c["value"] == "gpt-4")
    assert "OpenAI" in gpt4["name"]
    world.gateway.models += [f"gpt-4-variant-{i}" for i in range(40)]
    await world.core.refresh_models()  # the live catalog now has 48 models
    assert len(await world.dc.autocomplete("model", "name", "", user_id=USER)) == 25
    many = await world.dc.autocomplete("model", "name", "gpt-4-var", user_id=USER)
    assert len(many) == 25 and all(c["value"].startswith("gpt-4-variant-") for c in many)
    qwen = await world.dc.autocomplete("chat", "model", "qwen", user_id=USER,
                                       other_options={"prompt": "x"})
    assert qwen and all("qwen" in c["value"] for c in qwen)


async def test_model_switches_per_user_and_per_channel(world: DiscordWorld) -> None:
    mine = await world.dc.slash("model", {"name": "gpt-4"}, user_id=USER)
    await mine.wait_responses(1)
    assert mine.callback is not None and mine.callback.type == 5 and mine.ephemeral
    assert "gpt-4" in await world.wait_ephemeral(mine)

    await world.dc.user_sends(world.channel, USER, "which model?", mention_bot=True)
    await world.wait_final(world.channel, "echo: which model?")
    await world.dc.user_sends(world.channel, OTHER, "and mine?", mention_bot=True)
    await world.wait_final(world.channel, "echo: and mine?")
    assert [b["model"] for b in world.chat_bodies()] == ["gpt-4", "gpt-3.5-turbo"]

    denied = await world.dc.slash("model", {"name": "qwen-turbo", "scope": "chat"},
                                  user_id=OTHER)
    assert "admin" in (await world.wait_ephemeral(denied)).lower()
    channel_wide = await world.dc.slash("model", {"name": "qwen-turbo", "scope": "chat"},
                                        user_id=ADMIN)
    assert "qwen-turbo" in await world.wait_ephemeral(channel_wide)
    await world.dc.user_sends(world.channel, OTHER, "now?", mention_bot=True)
    await world.wait_final(world.channel, "echo: now?")
    assert world.chat_bodies()[-1]["model"] == "qwen-turbo"


async def test_chinese_locale_gets_chinese_text(world: DiscordWorld) -> None:
    inter = await world.dc.slash("help", {}, user_id=USER, locale="zh-CN")
    text = await world.wait_original(inter)
    assert "功能说明" in text and "/chat — 向模型提问" in text
    assert not inter.ephemeral  # help is an answer: public

    english = await world.dc.slash("help", {}, user_id=OTHER)
    assert "/chat — Ask the model" in await world.wait_original(english)


async def test_models_and_settings_replies(world: DiscordWorld) -> None:
    models = await world.dc.slash("models", {}, user_id=USER)
    listing = await world.wait_original(models)
    assert "gpt-4" in listing and not models.ephemeral
    assert all(len(m.content) <= 2000 for m in [models.original, *models.followups] if m)

    settings = await world.dc.slash("settings", {}, user_id=USER)
    assert "temperature" in await world.wait_ephemeral(settings)


async def test_global_sync_and_slash_chat_in_a_dm(fake_gateway: FakeGateway,
                                                  fake_discord: FakeDiscord,
                                                  tmp_path: Path) -> None:
    core = await ChatCore.create(make_settings(fake_gateway, fake_discord, tmp_path))
    settings = make_bot_settings(fake_discord, dev_guild_id=None)
    bot = await start_bot(core, settings)
    try:
        (put,) = fake_discord.calls_of("PUT", "/commands")
        assert "/guilds/" not in put.path and fake_discord.synced_commands["global"]
        mode = next(c for c in fake_discord.synced_commands["global"] if c["name"] == "mode")
        assert mode["contexts"] == [0] and int(mode["default_member_permissions"]) == 32

        dm = fake_discord.dm_channel_id(USER)
        inter = await fake_discord.slash("chat", {"prompt": "hi in dm"}, user_id=USER,
                                         channel_id=dm, guild=False)
        await fake_discord.wait_until(
            lambda: inter.original and inter.original.content == "echo: hi in dm"
            and not inter.original.components)
        assert not fake_discord.threads_created
    finally:
        await bot.stop()
        await core.close()
