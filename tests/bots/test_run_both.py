"""``python -m bots`` with both tokens set: one process serves Telegram and Discord."""

from __future__ import annotations

from pathlib import Path

from tests.bots.processes import child_env, discord_echoes, serving, telegram_echoes
from tests.fakes.discord import FakeDiscord
from tests.fakes.gateway import FakeGateway
from tests.fakes.telegram import FakeTelegram


def both_env(fake_gateway: FakeGateway, fake_telegram: FakeTelegram, tmp_path: Path,
             **discord: str) -> dict[str, str]:
    return child_env({
        "GATEWAY_BASE_URL": fake_gateway.url, "GATEWAY_API_KEY": "gw-key",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bots.db'}",
        "DATA_DIR": str(tmp_path), "BURST_WINDOW": "0", "LOG_LEVEL": "INFO",
        "TELEGRAM_BOT_TOKEN": fake_telegram.token, "TELEGRAM_API_URL": fake_telegram.url,
        **discord})


async def test_both_bots_answer_in_one_process_and_stop_cleanly(
        fake_gateway: FakeGateway, fake_telegram: FakeTelegram, fake_discord: FakeDiscord,
        tmp_path: Path) -> None:
    env = both_env(fake_gateway, fake_telegram, tmp_path,
                   DISCORD_BOT_TOKEN=fake_discord.token, DISCORD_API_BASE=fake_discord.api_base,
                   DISCORD_GATEWAY_URL=fake_discord.gateway_url,
                   DISCORD_DEV_GUILD_ID=str(fake_discord.guild_id))
    async with serving(env, tmp_path) as ended:
        await telegram_echoes(fake_telegram, "hello from telegram")
        await discord_echoes(fake_discord, "hello from discord")
    assert ended.returncode == 0, ended.log[-2000:]
    assert "starting telegram, discord" in ended.log
    for secret in ("gw-key", fake_telegram.token, fake_discord.token):
        assert secret not in ended.log


async def test_a_failing_platform_is_one_log_line_and_the_other_keeps_serving(
        fake_gateway: FakeGateway, fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    env = both_env(fake_gateway, fake_telegram, tmp_path,  # nothing listens there:
                   DISCORD_BOT_TOKEN="MTIz.bad.token",      # Discord fails to log in
                   DISCORD_API_BASE="http://127.0.0.1:9/api/v10")
    async with serving(env, tmp_path) as ended:
        await telegram_echoes(fake_telegram, "still there?")
    assert ended.returncode == 1, ended.log[-2000:]
    assert "discord bot stopped:" in ended.log and "Traceback" not in ended.log
