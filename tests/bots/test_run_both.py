"""``python -m bots`` with both tokens set: one process serves Telegram and Discord."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fakes.discord import FakeDiscord
from tests.fakes.gateway import FakeGateway
from tests.fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
# Timeouts are generous: importing aiogram alone took 30 s on a loaded 2-core machine.


async def test_both_bots_answer_in_one_process_and_stop_cleanly(
        fake_gateway: FakeGateway, fake_telegram: FakeTelegram, fake_discord: FakeDiscord,
        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GATEWAY_", "TELEGRAM_", "DISCORD_", "DATABASE_"))}
    env.update({
        "GATEWAY_BASE_URL": fake_gateway.url, "GATEWAY_API_KEY": "gw-key",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bots.db'}",
        "DATA_DIR": str(tmp_path), "BURST_WINDOW": "0", "LOG_LEVEL": "INFO",
        "TELEGRAM_BOT_TOKEN": fake_telegram.token, "TELEGRAM_API_URL": fake_telegram.url,
        "DISCORD_BOT_TOKEN": fake_discord.token, "DISCORD_API_BASE": fake_discord.api_base,
        "DISCORD_GATEWAY_URL": fake_discord.gateway_url,
        "DISCORD_DEV_GUILD_ID": str(fake_discord.guild_id),
    })
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bots", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        chat = fake_telegram.private_chat(42, "Ann")
        fake_telegram.user_sends(chat, 42, "hello from telegram")
        await fake_telegram.wait_until(
            lambda: any("echo: hello from telegram" in m.text
                        for m in fake_telegram.bot_messages(chat)), timeout=90)
        await fake_discord.wait_ready()
        await fake_discord.user_sends(fake_discord.text_channel_id, 4242, "hello from discord",
                                      mention_bot=True)
        await fake_discord.wait_until(
            lambda: any("echo: hello from discord" in m.content
                        for m in fake_discord.channel_messages(fake_discord.text_channel_id)),
            timeout=90)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()[-2000:]
    log = err.decode()
    assert "starting telegram, discord" in log
    for secret in ("gw-key", fake_telegram.token, fake_discord.token):
        assert secret not in log


async def test_a_failing_platform_is_one_log_line_and_the_other_keeps_serving(
        fake_gateway: FakeGateway, fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GATEWAY_", "TELEGRAM_", "DISCORD_", "DATABASE_"))}
    env.update({
        "GATEWAY_BASE_URL": fake_gateway.url, "GATEWAY_API_KEY": "gw-key",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bots.db'}",
        "DATA_DIR": str(tmp_path), "BURST_WINDOW": "0",
        "TELEGRAM_BOT_TOKEN": fake_telegram.token, "TELEGRAM_API_URL": fake_telegram.url,
        # nothing listens there: Discord fails to log in
        "DISCORD_BOT_TOKEN": "MTIz.bad.token", "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10",
    })
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bots", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        chat = fake_telegram.private_chat(42, "Ann")
        fake_telegram.user_sends(chat, 42, "still there?")
        await fake_telegram.wait_until(
            lambda: any("echo: still there?" in m.text for m in fake_telegram.bot_messages(chat)),
            timeout=90)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    log = err.decode()
    assert process.returncode == 1, log[-2000:]
    assert "discord bot stopped:" in log and "Traceback" not in log
