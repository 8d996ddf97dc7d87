"""``python -m bots [console | discord-invite]``: run the bots, a terminal chat, or
print the Discord invite URL.  Bad settings stop start-up with one line (exit 2)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import sys

from bots.runner import enabled_platforms, run_bots
from core.app import ChatCore
from core.config import AppSettings, SettingsError, load_settings
from core.logs import configure_logging

EXIT_CONFIG = 2


def _fail(message: str) -> int:
    print(f"chatbridge: {message}", file=sys.stderr)
    return EXIT_CONFIG


def _secrets(settings: AppSettings) -> list[str]:
    return [settings.secret(s) for s in (settings.gateway_api_key, settings.telegram_bot_token,
                                         settings.discord_bot_token,
                                         settings.telegram_webhook_secret)]


def application_id_from_token(token: str) -> int | None:
    """A Discord bot token starts with the base64 of the bot's (= application's) id."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isdigit() else None


def _discord_invite(settings: AppSettings) -> int:
    from adapters.discord.invite import invite_url

    app_id = settings.discord_application_id or application_id_from_token(
        settings.secret(settings.discord_bot_token))
    if app_id is None:
        return _fail("set DISCORD_APPLICATION_ID (or DISCORD_BOT_TOKEN) to build the invite URL")
    print(invite_url(app_id))
    return 0


async def _console(settings: AppSettings) -> None:
    from bots.console import run_console

    core = await ChatCore.create(settings)
    try:
        await run_console(core)
    finally:
        await core.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m bots", description=__doc__)
    parser.add_argument("command", nargs="?", default="run",
                        choices=("run", "console", "discord-invite"))
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(str(exc))
    configure_logging("WARNING" if args.command == "console" else settings.log_level,
                      _secrets(settings))
    if args.command == "discord-invite":
        return _discord_invite(settings)
    if not settings.secret(settings.gateway_api_key):
        return _fail("missing setting GATEWAY_API_KEY: the API key of your gateway "
                     "(see .env.example)")
    try:
        if args.command == "console":
            asyncio.run(_console(settings))
            return 0
        platforms = enabled_platforms(settings)
        if not platforms:
            return _fail("no platform token set: set TELEGRAM_BOT_TOKEN and/or "
                         "DISCORD_BOT_TOKEN in .env (or try `python -m bots console`)")
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(run_bots(settings, platforms))
    except SettingsError as exc:  # found at start: database, gateway URL or key
        return _fail(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
