"""``python -m bots [console | discord-invite]``: run the bots, a terminal chat, or
print the Discord invite URL.  Bad settings stop start-up with one line (exit 2)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import sys

from adapters.discord.settings import DiscordSettings
from bots.registry import load_plugin, load_plugins
from bots.runner import Configured, configure, enabled, run_bots
from core.config import AppSettings, SettingsError, load_settings, load_settings_of
from core.logs import configure_logging

EXIT_CONFIG = 2


def _fail(message: str) -> int:
    print(f"chatbridge: {message}", file=sys.stderr)
    return EXIT_CONFIG


def _secrets(settings: AppSettings, platforms: Configured) -> list[str]:
    values = [settings.secret(settings.gateway_api_key)]
    for _, platform_settings in platforms.values():
        values += platform_settings.secret_values()
    return values


def application_id_from_token(token: str) -> int | None:
    """A Discord bot token starts with the base64 of the bot's (= application's) id."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isdigit() else None


def _discord_invite() -> int:
    from adapters.discord.invite import invite_url

    settings = load_settings_of(DiscordSettings)
    app_id = settings.application_id or application_id_from_token(settings.token)
    if app_id is None:
        return _fail("set DISCORD_APPLICATION_ID (or DISCORD_BOT_TOKEN) to build the invite URL")
    print(invite_url(app_id))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m bots", description=__doc__)
    parser.add_argument("command", nargs="?", default="run",
                        choices=("run", "console", "discord-invite"))
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "discord-invite":
            return _discord_invite()
        plugins = ({"console": load_plugin("console")} if args.command == "console"
                   else load_plugins())
        configured = configure(plugins)
    except SettingsError as exc:
        return _fail(str(exc))
    configure_logging("WARNING" if args.command == "console" else settings.log_level,
                      _secrets(settings, configured))
    if not settings.secret(settings.gateway_api_key):
        return _fail("missing setting GATEWAY_API_KEY: the API key of your gateway "
                     "(see .env.example)")
    platforms = configured if args.command == "console" else enabled(configured)
    if not platforms:
        return _fail("no platform token set: set TELEGRAM_BOT_TOKEN and/or "
                     "DISCORD_BOT_TOKEN in .env (or try `python -m bots console`)")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(run_bots(settings, platforms))
    except SettingsError as exc:  # found at start: database, gateway URL or key
        return _fail(str(exc))
    return 0
if __name__ == "__main__":
    sys.exit(main())
