"""Fake Discord (REST ``/api/v10`` + gateway websocket) for driving the real discord.py.

Usage::

    fake = FakeDiscord()
    await fake.start()
    with fake.patch_discord():          # Route.BASE + DiscordWebSocket.DEFAULT_GATEWAY
        client = discord.Client(intents=..., guild_ready_timeout=0.1)
        task = asyncio.create_task(client.start(fake.token))
        await fake.wait_ready()
        await fake.user_sends(fake.text_channel_id, 42, "hi")
        await fake.wait_until(lambda: fake.channel_messages(fake.text_channel_id))
    await fake.stop()

See docs/FAKES.md for the contract; modules: ``discord_models`` (records, limits),
``discord_state`` (world + payloads), ``discord_gateway``, ``discord_rest``,
``discord_interactions``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

from tests.fakes.discord_gateway import GatewayHub
from tests.fakes.discord_interactions import InteractionHub
from tests.fakes.discord_models import (
    DM_CHANNEL,
    PUBLIC_THREAD,
    ApiCall,
    DiscordLimits,
    FakeChannel,
    FakeFile,
    FakeInteraction,
    FakeMessage,
    error_answer,
)
from tests.fakes.discord_rest import API, RestRoutes
from tests.fakes.discord_state import BODY, DiscordState

__all__ = [
    "ApiCall",
    "DiscordLimits",
    "FakeChannel",
    "FakeDiscord",
    "FakeInteraction",
    "FakeMessage",
]

DEFAULT_TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.fake.discord-token"


class FakeDiscord(DiscordState):
    """An aiohttp server on 127.0.0.1 that behaves like Discord for discord.py 2.7."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        app_id: int = 1_100_000_000_000_000_001,
        bot_user_id: int = 1_100_000_000_000_000_002,
        bot_username: str = "chatbridge",
        guild_id: int = 1_100_000_000_000_000_100,
        channel_count: int = 1,
        limits: DiscordLimits | None = None,
        interaction_deadline: float = 3.0,
        heartbeat_interval_ms: int = 41250,
    ) -> None:
        super().__init__(token=token, app_id=app_id, bot_user_id=bot_user_id,
                         bot_username=bot_username, guild_id=guild_id,
                         channel_count=channel_count, limits=limits)
        self.gateway = GatewayHub(self, heartbeat_interval_ms)
        self.rest = RestRoutes(self, self.gateway)
        self.interaction_hub = InteractionHub(self, self.gateway, self.rest)
        self.interaction_hub.deadline = interaction_deadline
        self.refusals: dict[int, tuple[int, str, int]] = {}  # channel id -> error answer
        self._runner: web.AppRunner | None = None

    # ---- lifecycle ----------------------------------------------------------------------
    async def start(self) -> FakeDiscord:
        """Start the server on a random free port."""
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        self.rest.register(app)
        self.interaction_hub.register(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.site = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        """Close gateway sockets and stop the server."""
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[FakeDiscord]:
        """Point discord.py's ``Route.BASE`` and ``DEFAULT_GATEWAY`` here; restore on exit."""
        old_base = discord.http.Route.BASE
        old_gw = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield self
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gw

    @web.middleware
    async def _middleware(
        self, request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        """Check ``Authorization: Bot <token>`` on bot routes and record every API call."""
        path = request.path
        if not path.startswith(API):
            return await handler(request)
        rel = path[len(API):]
        public = rel.startswith(("/interactions/", "/webhooks/"))
        refusal = self._refusal(rel)
        if not public and request.headers.get("Authorization") != f"Bot {self.token}":
            resp: web.StreamResponse = error_answer(401, "401: Unauthorized", 0)
        elif refusal is not None:
            resp = error_answer(*refusal)
        else:
            resp = await handler(request)
        self.calls.append(ApiCall(request.method, rel, request.get(BODY), resp.status,
                                  time.monotonic()))
        return resp

    def refuse(self, channel_id: int, status: int = 403,
               message: str = "Cannot send messages to this user", code: int = 50007) -> None:
        """From now on every ``/channels/<id>/…`` call answers this error (the user closed
        their DMs or blocked the bot: 403 50007; access removed: 403 50001 "Missing
        Access"; channel deleted: 404 10003 "Unknown Channel")."""
        self.refusals[channel_id] = (status, message, code)

    def _refusal(self, rel: str) -> tuple[int, str, int] | None:
        parts = rel.split("/")
        if len(parts) > 2 and parts[1] == "channels" and parts[2].isdigit():
            return self.refusals.get(int(parts[2]))
        return None

    # ---- addresses & ids ----------------------------------------------------------------
    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return self.site + API

    @property
    def gateway_url(self) -> str:
        """Value (as ``yarl.URL``) for ``DiscordWebSocket.DEFAULT_GATEWAY``."""
        return self.gateway.gateway_url

    @property
    def text_channel_id(self) -> int:
        """The first guild text channel."""
        return self.text_channel_ids[0]

    @property
    def interaction_deadline(self) -> float:
        """Seconds allowed between INTERACTION_CREATE and the first callback (default 3)."""
        return self.interaction_hub.deadline

    @interaction_deadline.setter
    def interaction_deadline(self, value: float) -> None:
        self.interaction_hub.deadline = value

    @property
    def ready(self) -> asyncio.Event:
        """Set once a client identified and received READY + GUILD_CREATE."""
        return self.gateway.ready

    async def wait_ready(self, timeout: float = 5.0) -> None:
        """Wait until a client identified (READY + GUILD_CREATE sent)."""
        try:
            await asyncio.wait_for(self.gateway.ready.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"no gateway client identified within {timeout}s\n"
                                 + self.dump()) from None

    def dm_channel_id(self, user_id: int) -> int:
        """Id of the DM channel between the bot and ``user_id``."""
        return self.dm_channel(user_id).id

    async def add_text_channel(self, name: str | None = None) -> int:
        """Create another guild text channel (CHANNEL_CREATE if a client is connected)."""
        ch = self._make_text_channel(name or f"general-{len(self.text_channel_ids)}")
        await self.gateway.dispatch("CHANNEL_CREATE", self.channel_payload(ch))
        return ch.id

    def add_member(self, user_id: int, username: str | None = None,
                   roles: list[int] | None = None) -> None:
        """Pre-register a guild member (before the client connects: listed in GUILD_CREATE)."""
        u = self.user(user_id, username)
        if roles is not None:
            u.roles = list(roles)

    # ---- driving ------------------------------------------------------------------------
    async def user_sends(
        self,
        channel_id: int,
        user_id: int,
        content: str = "",
        *,
        mention_bot: bool = False,
        reply_to: int | None = None,
        attachments: list[tuple[str, bytes, str]] | None = None,
        locale: str | None = None,
        thread: int | None = None,
        username: str | None = None,
        sticker: str | None = None,
    ) -> FakeMessage:
        """A user posts a message: dispatches MESSAGE_CREATE and returns the stored message.

        ``mention_bot`` prefixes ``<@BOTID> `` unless the content already mentions the bot.
        ``thread`` (a thread channel id) overrides ``channel_id``. ``reply_to`` is a message id.
        ``sticker`` (a name) attaches a sticker (``sticker_items``).
        """
        if not self.gateway.ready.is_set():
            await self.wait_ready()
        cid = thread if thread is not None else channel_id
        ch = self.channels.get(cid)
        if ch is None:
            raise AssertionError(f"user_sends: unknown channel {cid}")
        user = self.user(user_id, username)
        if locale:
            user.locale = locale
        mention = f"<@{self.bot_user_id}>"
        if mention_bot and mention not in content and f"<@!{self.bot_user_id}>" not in content:
            content = f"{mention} {content}"
        msg = FakeMessage(self.ids.next(), cid, user_id, content=content)
        if reply_to is not None:
            msg.reference_id = reply_to
        if sticker is not None:
            msg.sticker_items = [{"id": str(self.ids.next()), "name": sticker, "format_type": 1}]
        for filename, raw, ctype in attachments or []:
            aid = self.ids.next()
            f = FakeFile(filename, raw, ctype)
            msg.files[str(aid)] = f
            msg.attachments.append(self.attachment_payload(cid, aid, f))
        self.add_message(msg)
        payload = self.message_payload(msg)
        mentions_bot = mention in content or f"<@!{self.bot_user_id}>" in content
        if mentions_bot:
            mentioned = self.user_payload(self.bot_user_id)
            if ch.type != DM_CHANNEL:
                mentioned["member"] = self.member_payload(self.bot_user_id, with_user=False)
            payload["mentions"] = [mentioned]
        ref = self.messages.get(reply_to) if reply_to is not None else None
        replied_to_bot = ref is not None and ref.author_id == self.bot_user_id
        if replied_to_bot and not mentions_bot:
            payload["mentions"] = [self.user_payload(self.bot_user_id)]
        await self.rest.dispatch_message("MESSAGE_CREATE", ch, payload,
                                         mentions_bot=mentions_bot or replied_to_bot)
        return msg

    def user_deletes(self, message_id: int) -> None:
        """A moderator deletes a bot message (state only: no MESSAGE_DELETE is
        dispatched, the bot may be offline); later edits of it get 404 10008."""
        msg = self.messages.get(message_id)
        if msg is None or msg.deleted:
            raise KeyError(f"no message {message_id}")
        msg.deleted = True

    async def user_creates_thread(self, channel_id: int, user_id: int, name: str,
                                  message_id: int | None = None) -> int:
        """A user opens a public thread (THREAD_CREATE); returns the thread id."""
        tid = message_id or self.ids.next()
        th = FakeChannel(tid, PUBLIC_THREAD, name, guild_id=self.guild_id, parent_id=channel_id,
                         owner_id=user_id, starter_message_id=message_id)
        self.channels[tid] = th
        await self.gateway.dispatch("THREAD_CREATE",
                                    {**self.channel_payload(th), "newly_created": True})
        return tid

    async def slash(self, name: str, options: dict[str, Any] | None = None, *,
                    user_id: int, channel_id: int | None = None, guild: bool = True,
                    locale: str = "en-US",
                    attachments: dict[str, tuple[str, bytes, str]] | None = None,
                    ) -> FakeInteraction:
        """Invoke a slash command (INTERACTION_CREATE type 2); returns at once.

        ``options`` maps option name → value (str 3, int 4, bool 5, float 10, or a
        ``(filename, bytes, content_type)`` tuple = attachment 11); declared types of the
        synced command win. ``name`` may be ``"group sub"`` for sub-commands.
        ``channel_id`` defaults to the first text channel (or the user's DM if not guild).
        """
        if not self.gateway.ready.is_set():
            await self.wait_ready()
        return await self.interaction_hub.slash(
            name, options, user_id=user_id, channel_id=channel_id, guild=guild, locale=locale,
            attachments=attachments)

    async def autocomplete(self, name: str, option: str, value: Any, *,
                           user_id: int = 42, other_options: dict[str, Any] | None = None,
                           channel_id: int | None = None, guild: bool = True,
                           locale: str = "en-US", timeout: float = 5.0) -> list[dict[str, Any]]:
        """Autocomplete (type 4) for ``option``; returns the choices of the type-8 callback."""
        if not self.gateway.ready.is_set():
            await self.wait_ready()
        return await self.interaction_hub.autocomplete(
            name, option, value, user_id=user_id, other_options=other_options,
            channel_id=channel_id, guild=guild, locale=locale, timeout=timeout)

    async def click(self, message_id: int, custom_id: str, *, user_id: int = 42,
                    component_type: int = 2, values: list[str] | None = None,
                    locale: str = "en-US") -> FakeInteraction:
        """Press a button (component type 2) or pick select ``values`` on a message."""
        if not self.gateway.ready.is_set():
            await self.wait_ready()
        return await self.interaction_hub.click(
            message_id, custom_id, user_id=user_id, component_type=component_type,
            values=values, locale=locale)

    async def submit_modal(self, custom_id: str, values: dict[str, str], *, user_id: int = 42,
                           channel_id: int | None = None) -> FakeInteraction:
        """Submit a modal the bot opened (callback type 9) with ``values`` by input id."""
        return await self.interaction_hub.submit_modal(custom_id, values, user_id=user_id,
                                                       channel_id=channel_id)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py reconnects and RESUMEs (missed events replayed)."""
        await self.gateway.request_reconnect()

    # ---- changes made elsewhere (another deployment, the developer portal) -------------
    def delete_commands_elsewhere(self, scope: str) -> None:
        """Remove every command of ``scope`` ("global" or "guild:<id>") behind the bot."""
        self.synced_commands.pop(scope, None)

    def edit_command_elsewhere(self, scope: str, name: str, **fields: Any) -> None:
        """Change fields (e.g. ``description=``) of the command ``name`` in ``scope``."""
        command = next(c for c in self.synced_commands[scope] if c["name"] == name)
        command.update(fields)

    # ---- observing ----------------------------------------------------------------------
    def calls_of(self, method: str, path_contains: str = "") -> list[ApiCall]:
        """Recorded REST calls filtered by HTTP method and a path substring."""
        return [c for c in self.calls if c.method == method and path_contains in c.path]

    def interactions_of(self, name: str) -> list[FakeInteraction]:
        """Interactions dispatched for a command name (or component custom_id)."""
        return [i for i in self.interactions.values() if name in (i.name, i.custom_id)]

    def dump(self, last: int = 25) -> str:
        """Readable summary of recent calls and channel states (for failure messages)."""
        lines = [f"-- last {last} of {len(self.calls)} REST calls "
                 f"(429s: {self.rate_limited}):"]
        lines += [f"  {c}" for c in self.calls[-last:]]
        for cid, ids in self._channel_order.items():
            lines.append(f"-- channel {cid}:")
            for mid in ids[-8:]:
                m = self.messages[mid]
                who = "bot" if m.author_id == self.bot_user_id else f"user {m.author_id}"
                state = " (deleted)" if m.deleted else ""
                lines.append(f"  [{m.id}] {who}{state} edits={m.edits} flags={m.flags}: "
                             f"{m.content[:100]!r}")
        return "\n".join(lines)

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0,
                         interval: float = 0.01) -> Any:
        """Poll ``predicate()`` until truthy (returned); AssertionError with a dump on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if loop.time() >= deadline:
                raise AssertionError(f"wait_until timed out after {timeout}s\n{self.dump()}")
            await asyncio.sleep(interval)
