"""Connection blips between the bot and Discord: the answer still lands, nothing leaks.

The fake Discord has no fault hook, so these tests put a small HTTP proxy between
discord.py and the fake's REST API (``discord_api_base`` points at the proxy; the
gateway websocket stays direct).  The proxy forwards every request unchanged unless a
fault was armed for it: ``reset`` aborts the TCP connection with an RST (discord.py
re-raises ``aiohttp.ClientOSError``/``ServerDisconnectedError`` on Linux), ``garbage``
answers 200 with a body that is not JSON (an unexpected error inside discord.py).
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import discord.http
import pytest
from aiohttp import web

from core.app import ChatCore
from tests.adapters.discord.conftest import (
    USER,
    DiscordWorld,
    make_bot_settings,
    make_settings,
    start_bot,
)
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_rest import API
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_replies import Text

HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}
Match = Callable[[str, str, Any], bool]


@dataclass
class Fault:
    match: Match
    kind: str  # "reset" | "garbage"
    times: int = 1


class FlakyProxy:
    """Forwards HTTP to ``upstream``; armed faults hit the matching requests instead."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.hits: list[tuple[str, str, str]] = []  # (kind, method, path) of each fault
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def arm(self, kind: str, match: Match, times: int = 1) -> None:
        """Apply ``kind`` to the next ``times`` requests ``match(method, path, json_body)``."""
        self.faults.append(Fault(match, kind, times))

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession(auto_decompress=False)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if request.content_type == "application/json" else None
        except ValueError:
            body = None
        for fault in self.faults:
            if fault.times > 0 and fault.match(request.method, request.path, body):
                fault.times -= 1
                self.hits.append((fault.kind, request.method, request.path))
                if fault.kind == "garbage":
                    return web.Response(status=200, text="<html>bad gateway",
                                        content_type="application/json")
                transport = request.transport
                assert transport is not None
                sock = transport.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()  # RST: "connection reset by peer"
                return web.Response()
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with self._session.request(request.method, self.upstream + request.path_qs,
                                         headers=headers, data=raw) as upstream:
            data = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
            return web.Response(status=upstream.status, body=data, headers=out)


def streaming_edit(method: str, path: str, body: Any) -> bool:
    """An edit made while the answer streams (the Stop button is still on it)."""
    return method == "PATCH" and "/messages/" in path and bool(
        isinstance(body, dict) and body.get("components"))


def final_edit(method: str, path: str, body: Any) -> bool:
    """The edit that removes the Stop button (the answer's final form)."""
    return method == "PATCH" and "/messages/" in path and isinstance(body, dict) and body.get(
        "components") == []


@pytest.fixture
async def flaky(fake_gateway: FakeGateway, fake_discord: FakeDiscord, tmp_path: Path
                ) -> AsyncIterator[tuple[DiscordWorld, FlakyProxy]]:
    """Like ``world``, but the bot's REST calls go through a ``FlakyProxy``."""
    base = discord.http.Route.BASE
    proxy = FlakyProxy(fake_discord.site)
    await proxy.start()
    fake_discord.limits.window = 1.0
    fake_discord.add_member(USER, "ann")
    core = await ChatCore.create(make_settings(fake_gateway, fake_discord, tmp_path))
    settings = make_bot_settings(fake_discord, api_base=proxy.url + API)
    bot = await start_bot(core, settings)
    try:
        yield DiscordWorld(fake_discord, fake_gateway, core, bot, settings, tmp_path), proxy
    finally:
        await bot.stop()
        await core.close()
        await proxy.stop()
        discord.http.Route.BASE = base


def views_stopped(world: DiscordWorld) -> bool:
    """No Stop view is left registered once its turn ended (stopped views are dropped)."""
    return not world.bot.client.persistent_views


LONG = " ".join(f"word{i}" for i in range(60))


async def test_a_connection_reset_mid_stream_does_not_freeze_the_answer(
        flaky: tuple[DiscordWorld, FlakyProxy]) -> None:
    world, proxy = flaky
    world.gateway.script(Text(LONG, chunk_size=12, delay=0.03))
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, "count some words")
    await world.dc.wait_until(lambda: world.bot_messages(dm))
    proxy.arm("reset", streaming_edit)

    (answer,) = await world.wait_final(dm, LONG)  # streaming went on; the button is gone
    assert answer.content == LONG
    assert [kind for kind, _, _ in proxy.hits] == ["reset"]
    await world.dc.wait_until(lambda: views_stopped(world))


async def test_a_connection_reset_on_the_final_edit_is_retried(
        flaky: tuple[DiscordWorld, FlakyProxy]) -> None:
    world, proxy = flaky
    world.gateway.script(Text("A short answer.", chunk_size=100))
    proxy.arm("reset", final_edit)
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, "be brief")

    (answer,) = await world.wait_final(dm, "A short answer.", timeout=6.0)
    assert answer.content == "A short answer." and not answer.components
    assert [kind for kind, _, _ in proxy.hits] == ["reset"]
    await world.dc.wait_until(lambda: views_stopped(world))

    await world.dc.user_sends(dm, USER, "again")  # the bot is fine afterwards
    await world.wait_final(dm, "echo: again")


async def test_a_dead_presenter_cancels_its_turn(
        flaky: tuple[DiscordWorld, FlakyProxy]) -> None:
    world, proxy = flaky
    endless = " ".join(f"token{i}" for i in range(600))  # ~15 s of streaming
    world.gateway.script(Text(endless, chunk_size=8, delay=0.1))
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, "talk forever")
    await world.dc.wait_until(lambda: world.bot_messages(dm))
    proxy.arm("garbage", streaming_edit)  # discord.py fails to parse the answer: a bug-like crash
    await world.dc.wait_until(lambda: proxy.hits)

    # the core stops the turn, so the conversation is free again at once
    await world.dc.wait_until(lambda: world.core.scheduler.active_conversations == 0,
                              timeout=3.0)
    await world.dc.user_sends(dm, USER, "still there?")
    await world.dc.wait_until(
        lambda: any(m.content == "echo: still there?" for m in world.bot_messages(dm)),
        timeout=3.0)
    # once the new answer's presenter finishes too, no Stop view or live turn remains
    await world.dc.wait_until(lambda: views_stopped(world) and not world.bot.handlers.live)
    assert views_stopped(world) and not world.bot.handlers.live
