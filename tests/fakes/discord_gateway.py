"""Fake Discord gateway websocket: HELLO, IDENTIFY/RESUME, heartbeats and dispatches."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_state import DiscordState

log = logging.getLogger(__name__)

# opcodes
DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, REQUEST_MEMBERS = 0, 1, 2, 6, 7, 8
INVALID_SESSION, HELLO, HEARTBEAT_ACK = 9, 10, 11
BUFFER = 2000  # events kept per session for RESUME


@dataclass
class GatewaySession:
    """One identified gateway session (survives disconnects until closed with 1000)."""

    session_id: str
    intents: int
    ws: web.WebSocketResponse | None = None
    seq: int = 0
    alive: bool = True
    buffer: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=BUFFER))
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class GatewayHub:
    """Serves ``/gateway`` and fans dispatches out to every live session."""

    def __init__(self, state: DiscordState, heartbeat_interval_ms: int = 41250) -> None:
        self.state = state
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: dict[str, GatewaySession] = {}
        self.ready = asyncio.Event()
        self.identifies = 0
        self.resumes = 0
        self.received: list[dict[str, Any]] = []  # every non-heartbeat frame from clients
        self._sockets: set[web.WebSocketResponse] = set()

    @property
    def gateway_url(self) -> str:
        """ws:// URL of the gateway endpoint."""
        return self.state.site.replace("http://", "ws://", 1) + "/gateway"

    # ---- dispatching ------------------------------------------------------------------
    def live_sessions(self) -> list[GatewaySession]:
        """Sessions that receive (or buffer, while reconnecting) dispatches."""
        return [s for s in self.sessions.values() if s.alive]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send ``op 0`` event ``event`` to every live session (increasing ``s``)."""
        for sess in self.live_sessions():
            await self._send_event(sess, event, data)

    async def _send_event(self, sess: GatewaySession, event: str, data: dict[str, Any]) -> None:
        async with sess.lock:
            sess.seq += 1
            frame = json.dumps({"op": DISPATCH, "t": event, "s": sess.seq, "d": data})
            sess.buffer.append((sess.seq, frame))
            ws = sess.ws
            if ws is not None and not ws.closed:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.send_str(frame)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every connected client (it should RESUME)."""
        for sess in self.live_sessions():
            if sess.ws is not None and not sess.ws.closed:
                await sess.ws.send_str(json.dumps({"op": RECONNECT, "d": None}))

    async def close_all(self) -> None:
        """Close every socket (server shutdown)."""
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001)
        self._sockets.clear()

    # ---- connection handling ---------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """aiohttp handler for ``GET /gateway`` (websocket upgrade)."""
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        sess: GatewaySession | None = None
        try:
            await ws.send_str(json.dumps(
                {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == HEARTBEAT:
                    await ws.send_str(json.dumps({"op": HEARTBEAT_ACK}))
                    continue
                self.received.append(frame)
                if op == IDENTIFY:
                    sess = await self._identify(ws, frame.get("d") or {})
                elif op == RESUME:
                    sess = await self._resume(ws, frame.get("d") or {})
                elif op == REQUEST_MEMBERS and sess is not None:
                    await self._members_chunk(sess, frame.get("d") or {})
        finally:
            self._sockets.discard(ws)
            if sess is not None and sess.ws is ws:
                sess.ws = None
                if ws.close_code == 1000:  # a clean client close ends the session
                    sess.alive = False
                if not any(s.ws is not None for s in self.sessions.values()):
                    self.ready.clear()
        return ws

    async def _identify(
        self, ws: web.WebSocketResponse, d: dict[str, Any]
    ) -> GatewaySession | None:
        if d.get("token") != self.state.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        self.identifies += 1
        sess = GatewaySession(session_id=secrets.token_hex(16), intents=int(d.get("intents", 0)))
        self.sessions[sess.session_id] = sess
        sess.ws = ws
        st = self.state
        await self._send_event(sess, "READY", {
            "v": 10,
            "user": {**st.user_payload(st.bot_user_id), "verified": True, "mfa_enabled": False,
                     "flags": 0},
            "guilds": [{"id": str(st.guild_id), "unavailable": True}],
            "session_id": sess.session_id,
            "resume_gateway_url": self.gateway_url,
            "session_type": "normal",
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "application": {"id": str(st.app_id), "flags": 0},
            "_trace": ["fake-discord"],
        })
        await self._send_event(sess, "GUILD_CREATE", st.guild_payload())
        self.ready.set()
        return sess

    async def _resume(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> GatewaySession | None:
        sess = self.sessions.get(str(d.get("session_id")))
        if d.get("token") != self.state.token or sess is None or not sess.alive:
            await ws.send_str(json.dumps({"op": INVALID_SESSION, "d": False}))
            return None
        self.resumes += 1
        last = int(d.get("seq") or 0)
        async with sess.lock:
            sess.ws = ws
            for s, frame in list(sess.buffer):
                if s > last:
                    await ws.send_str(frame)
        await self._send_event(sess, "RESUMED", {"_trace": ["fake-discord"]})
        self.ready.set()
        return sess

    async def _members_chunk(self, sess: GatewaySession, d: dict[str, Any]) -> None:
        st = self.state
        members = [st.member_payload(uid) for uid in st.users]
        payload: dict[str, Any] = {"guild_id": str(st.guild_id), "members": members,
                                   "chunk_index": 0, "chunk_count": 1, "not_found": []}
        if d.get("nonce"):
            payload["nonce"] = d["nonce"]
        await self._send_event(sess, "GUILD_MEMBERS_CHUNK", payload)
