"""Discord adapter (discord.py 2): slash commands, threads, streamed answers."""

from adapters.discord.app import DiscordBot

__all__ = ["DiscordBot"]
