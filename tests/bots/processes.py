"""``python -m bots`` as a child process, as a user runs it, and the two conversations the
start-up tests hold with it ("user sends hello → bot echoes it") on each platform."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
SETTING_PREFIXES = ("GATEWAY_", "TELEGRAM_", "DISCORD_", "DATABASE_")
"""Variables of the developer's environment a child must not inherit."""
# Timeouts are generous: importing aiogram alone took 30 s on a loaded 2-core machine.


def child_env(env: dict[str, str], strip: tuple[str, ...] = SETTING_PREFIXES
              ) -> dict[str, str]:
    """This process's environment without the variables starting with ``strip``, plus ``env``."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(strip)}, **env}


async def run_bots(args: list[str], env: dict[str, str], stdin: str = "",
                   cwd: Path = ROOT) -> tuple[int, str, str]:
    """Run ``python -m bots *args`` to its end (60 s at most) with ``stdin`` piped in;
    its exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bots", *args, cwd=cwd, env=child_env(env),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@dataclass
class Ended:
    """How a served ``python -m bots`` ended (filled when ``serving`` exits)."""

    returncode: int | None = None
    log: str = ""


@asynccontextmanager
async def serving(env: dict[str, str], cwd: Path) -> AsyncIterator[Ended]:
    """``python -m bots`` (platforms from ``env``, a complete environment) runs in the
    block; then SIGTERM, and its exit code and stderr land in the yielded ``Ended``."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bots", cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    ended = Ended()
    try:
        yield ended
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
        ended.returncode, ended.log = process.returncode, err.decode()


async def telegram_echoes(fake: FakeTelegram, text: str, timeout: float = 90) -> None:
    """Ann (id 42) sends ``text`` in a private chat → the bot answers ``echo: <text>``."""
    chat = fake.private_chat(42, "Ann")
    fake.user_sends(chat, 42, text)
    await fake.wait_until(
        lambda: any(f"echo: {text}" in m.text for m in fake.bot_messages(chat)),
        timeout=timeout)


async def discord_echoes(fake: FakeDiscord, text: str, timeout: float = 90,
                         ready_timeout: float = 60) -> None:
    """Once the bot is connected, user 4242 mentions it with ``text`` in the text channel
    → it answers ``echo: <text>``."""
    await fake.wait_ready(timeout=ready_timeout)
    await fake.user_sends(fake.text_channel_id, 4242, text, mention_bot=True)
    await fake.wait_until(
        lambda: any(f"echo: {text}" in m.content
                    for m in fake.channel_messages(fake.text_channel_id)),
        timeout=timeout)
