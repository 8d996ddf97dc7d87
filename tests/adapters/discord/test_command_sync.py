"""Slash-command sync trusts what Discord has, not a local file: a restart with the same
commands uploads nothing; commands deleted or changed elsewhere are restored."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from adapters.discord.commands import normalize_commands
from core.app import ChatCore
from tests.adapters.discord.conftest import (
    DiscordWorld,
    make_bot_settings,
    make_settings,
    start_bot,
)
from tests.fakes.discord import FakeDiscord
from tests.fakes.gateway import FakeGateway


async def restart(world: DiscordWorld) -> None:
    await world.bot.stop()
    world.bot = await start_bot(world.core, world.settings)


def puts(world: DiscordWorld) -> int:
    return len(world.dc.calls_of("PUT", "/commands"))


async def test_first_start_syncs_and_a_restart_with_the_same_commands_does_not(
        world: DiscordWorld) -> None:
    assert world.bot.synced is True and puts(world) == 1
    await restart(world)
    assert world.bot.synced is False and puts(world) == 1  # zero PUTs on the restart
    (*_, get) = world.dc.calls_of("GET", "/commands")
    assert f"/guilds/{world.dc.guild_id}/commands" in get.path
    assert not (world.tmp_path / "discord_commands.json").exists()  # no local state


async def test_commands_deleted_elsewhere_are_restored_at_the_next_start(
        world: DiscordWorld) -> None:
    scope = f"guild:{world.dc.guild_id}"
    world.dc.delete_commands_elsewhere(scope)  # e.g. another deployment synced nothing
    await restart(world)
    assert world.bot.synced is True and puts(world) == 2
    assert "chat" in [c["name"] for c in world.dc.synced_commands[scope]]
    await restart(world)
    assert world.bot.synced is False and puts(world) == 2


async def test_a_description_changed_elsewhere_is_restored(world: DiscordWorld) -> None:
    scope = f"guild:{world.dc.guild_id}"
    world.dc.edit_command_elsewhere(scope, "chat", description="an older text")
    await restart(world)
    assert world.bot.synced is True and puts(world) == 2
    chat = next(c for c in world.dc.synced_commands[scope] if c["name"] == "chat")
    assert chat["description"] == "Ask the model"


async def test_a_translation_changed_elsewhere_is_restored(world: DiscordWorld) -> None:
    scope = f"guild:{world.dc.guild_id}"
    world.dc.edit_command_elsewhere(scope, "chat", description_localizations={"zh-CN": "旧"})
    await restart(world)
    assert world.bot.synced is True and puts(world) == 2
    chat = next(c for c in world.dc.synced_commands[scope] if c["name"] == "chat")
    assert chat["description_localizations"]["zh-CN"] == "向模型提问"


async def test_an_option_removed_elsewhere_is_restored(world: DiscordWorld) -> None:
    scope = f"guild:{world.dc.guild_id}"
    chat = next(c for c in world.dc.synced_commands[scope] if c["name"] == "chat")
    world.dc.edit_command_elsewhere(scope, "chat", options=chat["options"][:1])
    await restart(world)
    assert world.bot.synced is True and puts(world) == 2


async def test_global_commands_are_compared_too(fake_gateway: FakeGateway,
                                                fake_discord: FakeDiscord,
                                                tmp_path: Path) -> None:
    core = await ChatCore.create(make_settings(fake_gateway, fake_discord, tmp_path))
    settings = make_bot_settings(fake_discord, dev_guild_id=None)
    try:
        for expected_sync, expected_puts in ((True, 1), (False, 1)):
            bot = await start_bot(core, settings)
            await bot.stop()
            assert bot.synced is expected_sync
            assert len(fake_discord.calls_of("PUT", "/commands")) == expected_puts
        fake_discord.edit_command_elsewhere("global", "model", default_member_permissions="8")
        bot = await start_bot(core, settings)
        await bot.stop()
        assert bot.synced is True and len(fake_discord.calls_of("PUT", "/commands")) == 2
        assert all("/guilds/" not in c.path for c in fake_discord.calls_of("GET", "/commands"))
    finally:
        await core.close()


def test_defaults_and_server_fields_do_not_count_as_a_change() -> None:
    uploaded = {"type": 1, "name": "ask", "description": "Ask", "nsfw": False,
                "name_localizations": None, "dm_permission": True,
                "options": [{"type": 3, "name": "q", "description": "Question",
                             "required": False, "choices": []}]}
    returned = {"type": 1, "name": "ask", "description": "Ask", "id": "9", "version": "7",
                "application_id": "1", "guild_id": "2",
                "options": [{"type": 3, "name": "q", "description": "Question"}]}
    assert normalize_commands([uploaded]) == normalize_commands([returned])
    required = {**returned, "options": [{**returned["options"][0], "required": True}]}
    assert normalize_commands([uploaded]) != normalize_commands([required])


async def test_fake_lists_localizations_only_when_asked(world: DiscordWorld) -> None:
    path = (f"/api/v10/applications/{world.dc.app_id}/guilds/{world.dc.guild_id}/commands")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {world.dc.token}"}) as s:
        async with s.get(world.dc.site + path) as plain:
            listed = await plain.json()
        async with s.get(world.dc.site + path,
                         params={"with_localizations": "true"}) as localized:
            full = await localized.json()
    chat = next(c for c in listed if c["name"] == "chat")
    assert "description_localizations" not in chat
    assert next(c for c in full if c["name"] == "chat")["description_localizations"]
