"""``DiscordBot``: wires a ``discord.Client`` to the core.

``DiscordBot`` *owns* a ``discord.Client`` subclass (``bot.client``) instead of being
one, because ``Client.start``/``Client.run`` already mean something else (blocking,
token-taking); ``DiscordBot.start()`` returns once the bot is ready, ``stop()`` closes
it and ``run()`` serves until closed.

Endpoints: ``DISCORD_API_BASE`` is written to ``discord.http.Route.BASE`` and
``DISCORD_GATEWAY_URL`` to ``DiscordWebSocket.DEFAULT_GATEWAY``.  Both are **class
attributes, i.e. process-wide**: every discord.py client in the process (including
interaction webhooks and CDN-less REST calls) uses them, so one process talks to one
Discord (the real one, a nirn-proxy style REST proxy, or a Discord-compatible server).
``start()`` applies them and ``stop()`` restores the previous values.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, ClassVar

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands

from adapters.contract import Capabilities
from adapters.discord.commands import (
    SpecTranslator,
    build_commands,
    language_of,
    sync_if_changed,
)
from adapters.discord.handlers import Handlers
from adapters.discord.messages import register as register_messages
from adapters.discord.prompts import PromptButton
from adapters.discord.ratelimit import DEFAULT_EDIT_INTERVAL, ChannelThrottle
from adapters.discord.settings import DiscordSettings
from adapters.discord.streaming import NO_MENTIONS, Sink, StreamPresenter, ViewFactory
from adapters.discord.surface import ActionButton, actions_view
from core.app import ChatCore
from core.config import load_settings_of

log = logging.getLogger(__name__)

def apply_endpoints(api_base: str, gateway_url: str) -> tuple[str, yarl.URL]:
    """Point discord.py (process-wide) at ``api_base``/``gateway_url``; returns the old values."""
    previous = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    return previous


def restore_endpoints(previous: tuple[str, yarl.URL]) -> None:
    """Undo ``apply_endpoints``."""
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = previous


class BridgeTree(app_commands.CommandTree[discord.Client]):
    """Command tree that answers unexpected errors with an ephemeral message."""

    def __init__(self, client: discord.Client, bot: DiscordBot) -> None:
        super().__init__(client)
        self.bot = bot

    async def on_error(self, interaction: discord.Interaction,
                       error: app_commands.AppCommandError) -> None:
        """Log, then tell the user (ephemeral) that something went wrong."""
        log.error("slash command failed", exc_info=error)
        text = self.bot.core.t("error.internal", language_of(interaction.locale))
        with contextlib.suppress(Exception):  # the client may be closing
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)


class BridgeClient(discord.Client):
    """The discord.py client: intents incl. message content, events routed to handlers."""

    def __init__(self, bot: DiscordBot, *, guild_ready_timeout: float) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(intents=intents, allowed_mentions=NO_MENTIONS,
                         guild_ready_timeout=guild_ready_timeout)
        self.bot = bot
        self.tree = BridgeTree(self, bot)

    async def setup_hook(self) -> None:
        """Build slash commands from the core's specs and sync them if they changed."""
        self.add_dynamic_items(ActionButton, PromptButton)  # they work after a restart
        await self.bot.setup_commands()

    async def on_message(self, message: discord.Message) -> None:
        """Every message the bot can see."""
        await self.bot.handlers.on_message(message)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Every interaction (commands are handled by the tree, buttons by views)."""
        await self.bot.handlers.on_component(interaction)


class DiscordBot:
    """The Discord adapter: one client, the core's commands, streaming answers.

    ``settings`` default to ``DISCORD_*`` from the environment / ``.env``."""

    name: ClassVar[str] = "discord"
    capabilities: ClassVar[Capabilities] = Capabilities(
        drafts=False, edits=True, buttons=True, albums=True, modals=True, threads=True,
        max_message_length=2000, length_unit="chars",  # Discord: content ≤ 2000 chars
        max_upload_bytes=10 * 1024 * 1024)  # Discord: 10 MiB default upload limit

    def __init__(self, core: ChatCore, settings: DiscordSettings | None = None, *,
                 edit_interval: float = DEFAULT_EDIT_INTERVAL,
                 guild_ready_timeout: float = 2.0,
                 ready_timeout: float = 60.0) -> None:
        register_messages()
        self.core = core
        self.settings = settings or load_settings_of(DiscordSettings)
        self.throttle = ChannelThrottle(edit_interval)
        self.ready_timeout = ready_timeout
        self.client = BridgeClient(self, guild_ready_timeout=guild_ready_timeout)
        self.handlers = Handlers(self)
        self.synced: bool | None = None
        """Whether the last start synced commands (``None`` before setup)."""
        self._runner: asyncio.Task[None] | None = None
        self._previous_endpoints: tuple[str, yarl.URL] | None = None

    @property
    def tree(self) -> app_commands.CommandTree[discord.Client]:
        """The slash-command tree."""
        return self.client.tree

    def presenter(self, sink: Sink, *, make_view: ViewFactory | None,
                  cancelled_note: str) -> StreamPresenter:
        """A stream presenter sharing this bot's per-channel throttle."""
        return StreamPresenter(sink, self.throttle, make_view=make_view,
                               cancelled_note=cancelled_note,
                               on_message=self.handlers.remember_message,
                               parts=self.handlers.buttons.parts(sink, "en"),
                               final_view=actions_view)

    async def setup_commands(self) -> None:
        """Add one command per offered spec (to the dev guild if set) and sync if changed."""
        await self.tree.set_translator(SpecTranslator())
        guild_id = self.settings.dev_guild_id
        guild = discord.Object(id=guild_id) if guild_id is not None else None
        self.tree.clear_commands(guild=guild)
        for command in build_commands(self.core.commands, self.handlers.on_command,
                                      self.handlers.on_autocomplete):
            self.tree.add_command(command, guild=guild)
        application_id = self.client.application_id or self.settings.application_id
        if application_id is None:
            raise RuntimeError("Discord application id unknown (set DISCORD_APPLICATION_ID)")
        self.synced = await sync_if_changed(self.tree, application_id, guild_id)

    async def start(self) -> None:
        """Log in, connect the gateway and return once READY was handled."""
        token = self.settings.token
        if not token:
            raise RuntimeError("DISCORD_BOT_TOKEN is not set")
        self._previous_endpoints = apply_endpoints(self.settings.api_base,
                                                   self.settings.gateway_url)
        await self.client.login(token)
        self._runner = asyncio.create_task(self.client.connect(reconnect=True),
                                           name="discord-gateway")
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait({ready, self._runner}, timeout=self.ready_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            failure: BaseException | None = None
            if self._runner in done:
                failure = self._runner.exception()
            await self.stop()
            raise RuntimeError("the Discord gateway did not become ready") from failure
        self.core.outbox.attach("discord", self.handlers.buttons.deliver)
        log.info("discord bot ready as %s", self.client.user)

    async def stop(self) -> None:
        """Close the client and restore the process-wide endpoints."""
        self.core.outbox.detach("discord")  # ends queued jobs: show that first
        if not self.client.is_closed():
            await self.handlers.presentations.settle(None)
            await self.client.close()
        if self._runner is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._runner
            self._runner = None
        if self._previous_endpoints is not None:
            restore_endpoints(self._previous_endpoints)
            self._previous_endpoints = None

    async def serve(self, stop: asyncio.Event) -> None:
        """Start, serve until ``stop`` is set, then close.

        Raises ``RuntimeError`` when the gateway connection failed, and whatever
        ``start()`` raises; cleans up in every case."""
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await self.start()
            assert self._runner is not None
            await asyncio.wait([stopper, self._runner], return_when=asyncio.FIRST_COMPLETED)
            runner = self._runner
            if not stop.is_set() and not runner.cancelled() and runner.exception():
                raise RuntimeError("the Discord gateway connection failed") \
                    from runner.exception()
        finally:
            stopper.cancel()
            await self.stop()

    async def run(self) -> None:
        """Serve until the client is closed or fails (no signal handling)."""
        await self.serve(asyncio.Event())

    def info(self) -> dict[str, Any]:
        """Small status summary (bot user, guild count, command sync result)."""
        user = self.client.user
        return {"user": str(user) if user else None, "guilds": len(self.client.guilds),
                "synced": self.synced}
