"""Fake Discord REST routes (``/api/v10``): login, commands, channels, messages, threads, CDN."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.discord_gateway import GatewayHub
from tests.fakes.discord_models import (
    DM_CHANNEL,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    TEXT_CHANNEL,
    FakeChannel,
    FakeMessage,
    error_answer,
    iso_now,
    json_answer,
    rate_limited_answer,
    ratelimit_headers,
)
from tests.fakes.discord_state import BODY, DiscordState, read_body

API = "/api/v10"
MSG_BUCKET = "fake-messages"
NOOP_HEADERS_BUCKET = "fake-misc"

# gateway intents
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15


_LOCALIZED = ("name_localizations", "description_localizations")


def _without_localizations(data: Any) -> Any:
    if isinstance(data, list):
        return [_without_localizations(item) for item in data]
    if not isinstance(data, dict):
        return data
    return {k: _without_localizations(v) for k, v in data.items() if k not in _LOCALIZED}


def unknown(what: str, code: int) -> web.Response:
    """404 ``Unknown <what>``."""
    return error_answer(404, f"Unknown {what}", code)


def ok(data: Any, headers: dict[str, str] | None = None) -> web.Response:
    """200 JSON with a harmless rate-limit bucket when none is given."""
    return json_answer(data, headers=headers or ratelimit_headers(50, 49, 1.0, NOOP_HEADERS_BUCKET))


class RestRoutes:
    """Route handlers over a :class:`DiscordState` and a :class:`GatewayHub`."""

    def __init__(self, state: DiscordState, hub: GatewayHub) -> None:
        self.state = state
        self.hub = hub

    def register(self, app: web.Application) -> None:
        """Add this module's routes to ``app``."""
        r = app.router
        r.add_get(API + "/users/@me", self.get_me)
        r.add_get(API + "/users/{uid:\\d+}", self.get_user)
        r.add_get(API + "/oauth2/applications/@me", self.get_application)
        r.add_get(API + "/applications/@me", self.get_application)
        r.add_get(API + "/gateway", self.get_gateway)
        r.add_get(API + "/gateway/bot", self.get_gateway)
        for path in ("/applications/{app}/commands", "/applications/{app}/guilds/{g}/commands"):
            r.add_put(API + path, self.put_commands)
            r.add_get(API + path, self.get_commands)
        r.add_post(API + "/users/@me/channels", self.create_dm)
        r.add_get(API + "/channels/{cid}", self.get_channel)
        r.add_get(API + "/channels/{cid}/messages", self.list_messages)
        r.add_post(API + "/channels/{cid}/messages", self.create_message)
        r.add_get(API + "/channels/{cid}/messages/{mid}", self.get_message)
        r.add_patch(API + "/channels/{cid}/messages/{mid}", self.edit_message)
        r.add_delete(API + "/channels/{cid}/messages/{mid}", self.delete_message)
        r.add_route("*", API + "/channels/{cid}/messages/{mid}/reactions/{tail:.*}", self.reaction)
        r.add_post(API + "/channels/{cid}/typing", self.typing)
        r.add_post(API + "/channels/{cid}/messages/{mid}/threads", self.thread_from_message)
        r.add_post(API + "/channels/{cid}/threads", self.thread_without_message)
        r.add_get("/cdn/attachments/{cid}/{aid}/{filename}", self.cdn)

    # ---- login / meta ------------------------------------------------------------------
    async def get_me(self, request: web.Request) -> web.Response:
        """``GET /users/@me``."""
        st = self.state
        return ok({**st.user_payload(st.bot_user_id), "verified": True, "mfa_enabled": False,
                   "flags": 0, "locale": "en-US"})

    async def get_user(self, request: web.Request) -> web.Response:
        """``GET /users/{id}`` (any id is a known user)."""
        return ok(self.state.user_payload(int(request.match_info["uid"])))

    async def get_application(self, request: web.Request) -> web.Response:
        """``GET /oauth2/applications/@me``."""
        st = self.state
        return ok({
            "id": str(st.app_id), "name": "chatbridge", "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
            "owner": {"id": "1", "username": "owner", "discriminator": "0", "avatar": None},
            "team": None, "flags": 0, "summary": "", "rpc_origins": [],
            "bot": st.user_payload(st.bot_user_id), "interactions_endpoint_url": None,
            "redirect_uris": [], "tags": [], "approximate_guild_count": 1,
        })

    async def get_gateway(self, request: web.Request) -> web.Response:
        """``GET /gateway`` and ``/gateway/bot``."""
        return ok({"url": self.hub.gateway_url, "shards": 1,
                   "session_start_limit": {"total": 1000, "remaining": 999,
                                           "reset_after": 86_400_000, "max_concurrency": 1}})

    # ---- application commands ----------------------------------------------------------
    @staticmethod
    def _scope(request: web.Request) -> str:
        g = request.match_info.get("g")
        return f"guild:{g}" if g else "global"

    async def put_commands(self, request: web.Request) -> web.Response:
        """Bulk overwrite; ids stay stable per (scope, name)."""
        st = self.state
        if request.match_info["app"] != str(st.app_id):
            return error_answer(403, "Missing Access", 50001)
        body, _ = await read_body(request)
        request[BODY] = body
        scope = self._scope(request)
        out = []
        for cmd in body or []:
            full = {"type": 1, "description": "", "options": [], "nsfw": False,
                    "default_member_permissions": None, "dm_permission": True,
                    "contexts": None, "integration_types": [0], **cmd}
            full.update({"id": str(st.command_id(scope, cmd["name"])),
                         "application_id": str(st.app_id), "version": str(st.ids.next())})
            if scope != "global":
                full["guild_id"] = scope.split(":", 1)[1]
            out.append(full)
        st.synced_commands[scope] = out
        return ok(out)

    async def get_commands(self, request: web.Request) -> web.Response:
        """List the commands of a scope.

        Discord API (Get Global/Guild Application Commands): the ``name_localizations`` /
        ``description_localizations`` dictionaries are included only with
        ``?with_localizations=true``."""
        if self.state.app_id != int(request.match_info["app"]):
            return error_answer(403, "Missing Access", 50001)
        commands = self.state.synced_commands.get(self._scope(request), [])
        if request.query.get("with_localizations", "").lower() != "true":
            commands = [_without_localizations(c) for c in commands]
        return ok(commands)

    # ---- channels ----------------------------------------------------------------------
    def _channel(self, request: web.Request) -> FakeChannel | None:
        try:
            return self.state.channels.get(int(request.match_info["cid"]))
        except ValueError:
            return None

    async def create_dm(self, request: web.Request) -> web.Response:
        """``POST /users/@me/channels`` ``{"recipient_id"}``."""
        body, _ = await read_body(request)
        request[BODY] = body
        ch = self.state.dm_channel(int(body["recipient_id"]))
        return ok(self.state.channel_payload(ch))

    async def get_channel(self, request: web.Request) -> web.Response:
        """``GET /channels/{id}``."""
        ch = self._channel(request)
        if ch is None:
            return unknown("Channel", 10003)
        return ok(self.state.channel_payload(ch))

    async def typing(self, request: web.Request) -> web.Response:
        """``POST /channels/{id}/typing`` → 204."""
        ch = self._channel(request)
        if ch is None:
            return unknown("Channel", 10003)
        self.state.typing.append(ch.id)
        return web.Response(status=204)

    # ---- messages ----------------------------------------------------------------------
    def _message(self, request: web.Request, ch: FakeChannel) -> FakeMessage | None:
        try:
            msg = self.state.messages.get(int(request.match_info["mid"]))
        except ValueError:
            return None
        if msg is None or msg.deleted or msg.channel_id != ch.id:
            return None
        return msg

    def _limit(self, key: str) -> tuple[web.Response | None, dict[str, str]]:
        allowed, headers, retry = self.state.limiter.hit(key, MSG_BUCKET)
        if allowed:
            return None, headers or ratelimit_headers(50, 49, 1.0, NOOP_HEADERS_BUCKET)
        self.state.rate_limited += 1
        return rate_limited_answer(retry, MSG_BUCKET), {}

    async def list_messages(self, request: web.Request) -> web.Response:
        """``GET /channels/{id}/messages?limit=`` newest first."""
        ch = self._channel(request)
        if ch is None:
            return unknown("Channel", 10003)
        limit = int(request.query.get("limit", "50"))
        msgs = self.state.channel_messages(ch.id, include_users=True)[::-1][:limit]
        return ok([self.state.message_payload(m) for m in msgs])

    async def get_message(self, request: web.Request) -> web.Response:
        """``GET /channels/{id}/messages/{mid}``."""
        ch = self._channel(request)
        msg = self._message(request, ch) if ch else None
        if msg is None:
            return unknown("Message", 10008)
        return ok(self.state.message_payload(msg))

    async def create_message(self, request: web.Request) -> web.Response:
        """``POST /channels/{id}/messages`` (JSON or multipart)."""
        st = self.state
        ch = self._channel(request)
        if ch is None:
            return unknown("Channel", 10003)
        body, files = await read_body(request)
        body = body or {}
        request[BODY] = body
        bad = st.check_message_body(body, [])
        if bad is not None:
            return bad
        if not (body.get("content") or body.get("embeds") or files or body.get("components")
                or body.get("sticker_ids") or body.get("poll")):
            return error_answer(400, "Cannot send an empty message", 50006)
        limited, headers = self._limit(f"ch:{ch.id}")
        if limited is not None:
            return limited
        msg = FakeMessage(st.ids.next(), ch.id, st.bot_user_id)
        ref = (body.get("message_reference") or {}).get("message_id")
        if ref is not None:
            if int(ref) not in st.messages and (body.get("message_reference") or {}).get(
                    "fail_if_not_exists", True):
                return error_answer(400, "Invalid Form Body", 50035, {"message_reference": {
                    "_errors": [{"code": "REPLIES_UNKNOWN_MESSAGE",
                                 "message": "Unknown message"}]}})
            msg.reference_id = int(ref)
        st.apply_body(msg, {k: v for k, v in body.items() if k != "flags"}, files, edit=False)
        msg.flags = int(body.get("flags") or 0) & 4096  # only SUPPRESS_NOTIFICATIONS kept
        st.add_message(msg)
        payload = st.message_payload(msg)
        await self.dispatch_message("MESSAGE_CREATE", ch, payload)
        return ok(payload, headers)

    async def edit_message(self, request: web.Request) -> web.Response:
        """``PATCH /channels/{id}/messages/{mid}``."""
        st = self.state
        ch = self._channel(request)
        msg = self._message(request, ch) if ch else None
        if ch is None or msg is None:
            return unknown("Message", 10008)
        body, files = await read_body(request)
        body = body or {}
        request[BODY] = body
        if msg.author_id != st.bot_user_id:
            return error_answer(403, "Cannot edit a message authored by another user", 50005)
        bad = st.check_message_body(body, [])
        if bad is not None:
            return bad
        limited, headers = self._limit(f"ch:{ch.id}")
        if limited is not None:
            return limited
        st.apply_body(msg, body, files, edit=True)
        payload = st.message_payload(msg)
        await self.dispatch_message("MESSAGE_UPDATE", ch, payload)
        return ok(payload, headers)

    async def delete_message(self, request: web.Request) -> web.Response:
        """``DELETE /channels/{id}/messages/{mid}`` → 204."""
        ch = self._channel(request)
        msg = self._message(request, ch) if ch else None
        if ch is None or msg is None:
            return unknown("Message", 10008)
        msg.deleted = True
        data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(ch.id)}
        if ch.guild_id:
            data["guild_id"] = str(ch.guild_id)
        await self.dispatch_message("MESSAGE_DELETE", ch, data)
        return web.Response(status=204)

    async def reaction(self, request: web.Request) -> web.Response:
        """Reactions are accepted and recorded in ``calls`` only."""
        return web.Response(status=204)

    async def dispatch_message(self, event: str, ch: FakeChannel, payload: dict[str, Any],
                               *, mentions_bot: bool = False) -> None:
        """Dispatch a message event honouring GUILD/DIRECT_MESSAGES and MESSAGE_CONTENT intents."""
        from_bot = payload.get("author", {}).get("id") == str(self.state.bot_user_id)
        if from_bot and not self.state.echo_bot_messages:
            return
        intent = DIRECT_MESSAGES if ch.type == DM_CHANNEL else GUILD_MESSAGES
        stripped: dict[str, Any] | None = None
        for sess in self.hub.live_sessions():
            if not sess.intents & intent:
                continue
            data = payload
            privileged = ch.type == DM_CHANNEL or mentions_bot or from_bot
            if event != "MESSAGE_DELETE" and not privileged and not sess.intents & MESSAGE_CONTENT:
                if stripped is None:
                    stripped = {**payload, "content": "", "embeds": [], "attachments": [],
                                "components": []}
                data = stripped
            await self.hub._send_event(sess, event, data)

    # ---- threads -----------------------------------------------------------------------
    async def _new_thread(self, parent: FakeChannel, tid: int, name: str, ttype: int,
                          starter: int | None) -> web.Response:
        st = self.state
        th = FakeChannel(tid, ttype, name, guild_id=parent.guild_id, parent_id=parent.id,
                         owner_id=st.bot_user_id, starter_message_id=starter)
        st.channels[tid] = th
        st.threads_created.append(th)
        payload = st.channel_payload(th)
        await self.hub.dispatch("THREAD_CREATE", {**payload, "newly_created": True})
        member = {"id": str(tid), "user_id": str(st.bot_user_id), "join_timestamp": iso_now(),
                  "flags": 0}
        return ok({**payload, "member": member})

    async def thread_from_message(self, request: web.Request) -> web.Response:
        """``POST /channels/{id}/messages/{mid}/threads`` (thread id = message id)."""
        st = self.state
        ch = self._channel(request)
        if ch is None:
            return unknown("Channel", 10003)
        body, _ = await read_body(request)
        request[BODY] = body
        if ch.type != TEXT_CHANNEL:
            return error_answer(400, "Cannot execute action on this channel type", 50024)
        msg = self._message(request, ch)
        if msg is None:
            return unknown("Message", 10008)
        if msg.id in st.channels:
            return error_answer(400, "A thread has already been created for this message",
                                160004)
        return await self._new_thread(ch, msg.id, str(body.get("name", "thread")), PUBLIC_THREAD,
                                      msg.id)

    async def thread_without_message(self, request: web.Request) -> web.Response:
        """``POST /channels/{id}/threads`` (type 11 public / 12 private)."""
        ch = self._channel(request)
        if ch is None:
            return unknown("Channel", 10003)
        body, _ = await read_body(request)
        request[BODY] = body
        if ch.type != TEXT_CHANNEL:
            return error_answer(400, "Cannot execute action on this channel type", 50024)
        ttype = int(body.get("type") or PRIVATE_THREAD)
        return await self._new_thread(ch, self.state.ids.next(), str(body.get("name", "thread")),
                                      ttype, None)

    # ---- CDN -------------------------------------------------------------------------
    async def cdn(self, request: web.Request) -> web.Response:
        """Serve attachment bytes (user uploads and bot uploads)."""
        self.state.cdn_fetches.append(int(request.match_info["aid"]))
        f = self.state.find_file(int(request.match_info["aid"]))
        if f is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=f.data, headers={"Content-Type": f.content_type})
