"""Fake Discord interactions: INTERACTION_CREATE drivers, callbacks and webhook follow-ups."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from aiohttp import web

from tests.fakes.discord_gateway import GatewayHub
from tests.fakes.discord_models import (
    DM_CHANNEL,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FakeFile,
    FakeInteraction,
    FakeMessage,
    InteractionResponse,
    error_answer,
    json_answer,
    rate_limited_answer,
    ratelimit_headers,
)
from tests.fakes.discord_rest import API, RestRoutes, unknown
from tests.fakes.discord_state import BODY, DiscordState, read_body

ATTACHMENT_SIZE_LIMIT = 26_214_400
WEBHOOK_BUCKET = "fake-webhook"
MESSAGE_CALLBACKS = (4, 5, 7)
ALLOWED_CALLBACKS = {2: (4, 5, 9), 3: (4, 5, 6, 7, 9), 4: (8,), 5: (4, 5, 6, 7)}


def option_type(value: Any) -> int:
    """Infer an application-command option type from a Python value."""
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    if isinstance(value, tuple):
        return 11
    return 3


class InteractionHub:
    """Builds interactions, dispatches them, and serves the callback/webhook routes."""

    def __init__(self, state: DiscordState, hub: GatewayHub, rest: RestRoutes) -> None:
        self.state = state
        self.hub = hub
        self.rest = rest
        self.deadline = 3.0  # seconds between dispatch and the first callback

    def register(self, app: web.Application) -> None:
        """Add the callback and webhook routes."""
        r = app.router
        r.add_post(API + "/interactions/{iid}/{token}/callback", self.callback)
        r.add_post(API + "/webhooks/{app}/{token}", self.followup)
        r.add_get(API + "/webhooks/{app}/{token}/messages/{mid}", self.get_webhook_message)
        r.add_patch(API + "/webhooks/{app}/{token}/messages/{mid}", self.edit_webhook_message)
        r.add_delete(API + "/webhooks/{app}/{token}/messages/{mid}", self.delete_webhook_message)

    # ---- building & dispatching -------------------------------------------------------
    def _new(self, itype: int, user_id: int, channel_id: int | None, guild: bool,
             locale: str) -> FakeInteraction:
        st = self.state
        st.user(user_id).locale = locale
        if channel_id is None:
            channel_id = st.text_channel_ids[0] if guild else st.dm_channel(user_id).id
        ch = st.channels[channel_id]
        inter = FakeInteraction(
            id=st.ids.next(), token="fake-itok-" + secrets.token_urlsafe(24), type=itype,
            channel_id=channel_id, user_id=user_id,
            guild_id=None if ch.type == DM_CHANNEL else st.guild_id)
        inter._messages = st.messages
        st.interactions[inter.id] = inter
        st.interactions_by_token[inter.token] = inter
        return inter

    def _payload(self, inter: FakeInteraction, data: dict[str, Any],
                 message: FakeMessage | None = None) -> dict[str, Any]:
        st = self.state
        ch = st.channels[inter.channel_id]
        user = st.user(inter.user_id)
        payload: dict[str, Any] = {
            "id": str(inter.id), "application_id": str(st.app_id), "type": inter.type,
            "token": inter.token, "version": 1, "locale": user.locale,
            "app_permissions": str(st.permissions_of(st.bot_user_id)), "entitlements": [],
            "entitlement_sku_ids": [], "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel_id": str(ch.id), "channel": st.channel_payload(ch), "data": data,
        }
        if inter.guild_id is not None:
            payload.update({
                "guild_id": str(inter.guild_id), "guild_locale": "en-US",
                "guild": {"id": str(inter.guild_id), "locale": "en-US", "features": []},
                "member": st.member_payload(inter.user_id), "context": 0,
                "authorizing_integration_owners": {"0": str(inter.guild_id)},
            })
            payload["channel"]["permissions"] = str(st.permissions_of(inter.user_id))
        else:
            payload.update({"user": st.user_payload(inter.user_id), "context": 1,
                            "authorizing_integration_owners": {"1": str(inter.user_id)}})
        if message is not None:
            payload["message"] = st.message_payload(message)
        return payload

    async def _dispatch(self, inter: FakeInteraction, payload: dict[str, Any]) -> None:
        inter.dispatched_at = asyncio.get_running_loop().time()
        await self.hub.dispatch("INTERACTION_CREATE", payload)

    def _command_data(self, name: str, options: dict[str, Any], guild: bool,
                      focused: str | None = None) -> dict[str, Any]:
        """``data`` of a type-2/4 interaction; nested names ("group sub") become sub-options."""
        st = self.state
        parts = name.split()
        top = parts[0]
        gscope = f"guild:{st.guild_id}"
        defs: list[dict[str, Any]] = []
        data: dict[str, Any] = {"name": top, "type": 1}
        for scope in ([gscope] if guild else []) + ["global"]:
            found = next((c for c in st.synced_commands.get(scope, []) if c["name"] == top), None)
            if found is not None:
                defs = found.get("options") or []
                data["id"] = found["id"]
                if scope != "global":
                    data["guild_id"] = str(st.guild_id)
                break
        else:
            data["id"] = str(st.command_id("global", top))
        resolved: dict[str, Any] = {}
        leaf: list[dict[str, Any]] = []
        for opt_name, value in options.items():
            declared = next((d for d in defs if d.get("name") == opt_name), None)
            for part in parts[1:]:  # look the option up inside sub-commands
                holder = next((d for d in defs if d.get("name") == part), None)
                sub = (holder or {}).get("options") or []
                declared = next((d for d in sub if d.get("name") == opt_name), declared)
            otype = int(declared["type"]) if declared else option_type(value)
            if isinstance(value, tuple):
                filename, raw, ctype = value
                aid = st.ids.next()
                f = FakeFile(filename, raw, ctype)
                st.pending_files[str(aid)] = f
                resolved.setdefault("attachments", {})[str(aid)] = st.attachment_payload(
                    0, aid, f)
                value, otype = str(aid), 11
            opt: dict[str, Any] = {"name": opt_name, "type": otype, "value": value}
            if opt_name == focused:
                opt["focused"] = True
            leaf.append(opt)
        options_out = leaf
        if len(parts) >= 2:
            options_out = [{"name": parts[-1], "type": 1, "options": leaf}]
        if len(parts) == 3:
            options_out = [{"name": parts[1], "type": 2, "options": options_out}]
        data["options"] = options_out
        if resolved:
            data["resolved"] = resolved
        return data

    async def slash(self, name: str, options: dict[str, Any] | None = None, *, user_id: int,
                    channel_id: int | None = None, guild: bool = True, locale: str = "en-US",
                    attachments: dict[str, tuple[str, bytes, str]] | None = None,
                    ) -> FakeInteraction:
        """Dispatch an application-command interaction (type 2)."""
        opts = {**(options or {}), **(attachments or {})}
        inter = self._new(2, user_id, channel_id, guild, locale)
        inter.name = name
        data = self._command_data(name, opts, inter.guild_id is not None)
        await self._dispatch(inter, self._payload(inter, data))
        return inter

    async def autocomplete(self, name: str, option: str, value: Any, *, user_id: int,
                           other_options: dict[str, Any] | None = None,
                           channel_id: int | None = None, guild: bool = True,
                           locale: str = "en-US", timeout: float = 5.0) -> list[dict[str, Any]]:
        """Dispatch an autocomplete interaction (type 4) and return the bot's choices."""
        inter = self._new(4, user_id, channel_id, guild, locale)
        inter.name = name
        opts = {**(other_options or {}), option: value}
        data = self._command_data(name, opts, inter.guild_id is not None, focused=option)
        await self._dispatch(inter, self._payload(inter, data))
        await inter.wait_responses(1, timeout)
        return list(inter.choices or [])

    async def click(self, message_id: int, custom_id: str, *, user_id: int,
                    component_type: int = 2, values: list[str] | None = None,
                    locale: str = "en-US") -> FakeInteraction:
        """Dispatch a component interaction (type 3) on a message."""
        msg = self.state.messages.get(message_id)
        if msg is None:
            raise AssertionError(f"click: unknown message {message_id}")
        ch = self.state.channels[msg.channel_id]
        inter = self._new(3, user_id, msg.channel_id, ch.type != DM_CHANNEL, locale)
        inter.custom_id, inter.message_id = custom_id, message_id
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = values
        await self._dispatch(inter, self._payload(inter, data, message=msg))
        return inter

    async def submit_modal(self, custom_id: str, values: dict[str, str], *, user_id: int,
                           channel_id: int | None = None, guild: bool = True,
                           locale: str = "en-US") -> FakeInteraction:
        """A modal submit (type 5): ``values`` = text input custom_id → text, one row each."""
        inter = self._new(5, user_id, channel_id, guild, locale)
        data: dict[str, Any] = {"custom_id": custom_id, "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
            for key, value in values.items()]}
        await self._dispatch(inter, self._payload(inter, data))
        return inter

    # ---- HTTP: callback ---------------------------------------------------------------
    async def callback(self, request: web.Request) -> web.Response:
        """``POST /interactions/{id}/{token}/callback[?with_response=1]``."""
        st = self.state
        inter = st.interactions.get(int(request.match_info["iid"]))
        body, files = await read_body(request)
        request[BODY] = body
        if inter is None or inter.token != request.match_info["token"]:
            return unknown("interaction", 10062)
        now = asyncio.get_running_loop().time()
        if inter.acknowledged:
            return error_answer(400, "Interaction has already been acknowledged.", 40060)
        if inter.expired or now - inter.dispatched_at > self.deadline:
            inter.expired = True
            return unknown("interaction", 10062)
        cb_type = int((body or {}).get("type", 0))
        data: dict[str, Any] = (body or {}).get("data") or {}
        if cb_type not in ALLOWED_CALLBACKS.get(inter.type, ()):
            return error_answer(400, "Invalid Form Body", 50035, {"type": {"_errors": [
                {"code": "INTERACTION_TYPE_INVALID", "message": "Invalid interaction type"}]}})
        bad = st.check_message_body(data, ["data"])
        if bad is not None:
            return bad
        inter.callback_type = cb_type
        msg = await self._apply_callback(inter, cb_type, data, files)
        inter.record(InteractionResponse("callback", cb_type, data, now,
                                         msg.id if msg else None))
        if "with_response" not in request.query:
            return web.Response(status=204)
        answer: dict[str, Any] = {"interaction": {
            "id": str(inter.id), "type": inter.type,
            "response_message_loading": cb_type == 5,
            "response_message_ephemeral": bool(msg and msg.ephemeral)}}
        if msg is not None and cb_type in MESSAGE_CALLBACKS:
            answer["interaction"]["response_message_id"] = str(msg.id)
            answer["resource"] = {"type": cb_type, "message": st.message_payload(msg)}
        return json_answer(answer)

    async def _apply_callback(self, inter: FakeInteraction, cb_type: int, data: dict[str, Any],
                              files: list[FakeFile]) -> FakeMessage | None:
        st = self.state
        ch = st.channels[inter.channel_id]
        if cb_type in (4, 5):
            eph = int(data.get("flags") or 0) & FLAG_EPHEMERAL
            loading = FLAG_LOADING if cb_type == 5 else 0
            msg = FakeMessage(st.ids.next(), ch.id, st.bot_user_id, interaction_id=inter.id,
                              webhook_id=st.app_id, flags=eph | loading)
            if cb_type == 4:
                st.apply_body(msg, {k: v for k, v in data.items() if k != "flags"}, files,
                              edit=False)
            st.add_message(msg)
            inter.original_id = msg.id
            if not msg.ephemeral:
                await self.rest.dispatch_message("MESSAGE_CREATE", ch, st.message_payload(msg))
            return msg
        if cb_type in (6, 7) and inter.message_id is not None:
            inter.original_id = inter.message_id
            msg = st.messages[inter.message_id]
            if cb_type == 7:
                st.apply_body(msg, data, files, edit=True)
                await self.rest.dispatch_message("MESSAGE_UPDATE", ch, st.message_payload(msg))
            return msg
        if cb_type == 8:
            inter.choices = list(data.get("choices") or [])
        return None

    # ---- HTTP: webhooks ---------------------------------------------------------------
    def _webhook_interaction(self, request: web.Request) -> FakeInteraction | None:
        inter = self.state.interactions_by_token.get(request.match_info["token"])
        if inter is None or request.match_info["app"] != str(self.state.app_id):
            return None
        if not inter.acknowledged or inter.type == 4:
            return None
        return inter

    def _webhook_message(self, request: web.Request,
                         inter: FakeInteraction) -> tuple[str, FakeMessage | None]:
        mid = request.match_info["mid"]
        if mid == "@original":
            return "original", inter.original
        msg = self.state.messages.get(int(mid)) if mid.isdigit() else None
        if msg is not None and msg.id == inter.original_id:
            return "original", msg
        if msg is None or msg.id not in inter.followup_ids:
            return "followup", None
        return "followup", msg

    def _limit(self, inter: FakeInteraction) -> tuple[web.Response | None, dict[str, str]]:
        allowed, headers, retry = self.state.limiter.hit(f"wh:{inter.token}", WEBHOOK_BUCKET)
        if allowed:
            return None, headers or ratelimit_headers(50, 49, 1.0, WEBHOOK_BUCKET)
        self.state.rate_limited += 1
        return rate_limited_answer(retry, WEBHOOK_BUCKET), {}

    async def followup(self, request: web.Request) -> web.Response:
        """``POST /webhooks/{app}/{token}[?wait=true]`` — a follow-up message."""
        st = self.state
        body, files = await read_body(request)
        body = body or {}
        request[BODY] = body
        inter = self._webhook_interaction(request)
        if inter is None:
            return unknown("Webhook", 10015)
        bad = st.check_message_body(body, [])
        if bad is not None:
            return bad
        limited, headers = self._limit(inter)
        if limited is not None:
            return limited
        ch = st.channels[inter.channel_id]
        original = inter.original
        now = asyncio.get_running_loop().time()
        if inter.callback_type == 5 and original is not None and original.loading:
            # Discord: the first follow-up after a deferred response replaces "thinking…".
            st.apply_body(original, {k: v for k, v in body.items() if k != "flags"}, files,
                          edit=True)
            original.flags &= ~FLAG_LOADING
            msg, event = original, "MESSAGE_UPDATE"
        else:
            eph = int(body.get("flags") or 0) & FLAG_EPHEMERAL
            msg = FakeMessage(st.ids.next(), ch.id, st.bot_user_id, interaction_id=inter.id,
                              webhook_id=st.app_id, flags=eph)
            st.apply_body(msg, {k: v for k, v in body.items() if k != "flags"}, files,
                          edit=False)
            st.add_message(msg)
            event = "MESSAGE_CREATE"
        inter.followup_ids.append(msg.id)
        inter.record(InteractionResponse("followup", None, body, now, msg.id))
        payload = st.message_payload(msg)
        if not msg.ephemeral:
            await self.rest.dispatch_message(event, ch, payload)
        if request.query.get("wait", "").lower() not in ("true", "1"):
            return web.Response(status=204, headers=headers)
        return json_answer(payload, headers=headers)

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        """``GET /webhooks/{app}/{token}/messages/{id|@original}``."""
        inter = self._webhook_interaction(request)
        if inter is None:
            return unknown("Webhook", 10015)
        _, msg = self._webhook_message(request, inter)
        if msg is None or msg.deleted:
            return unknown("Message", 10008)
        return json_answer(self.state.message_payload(msg))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        """``PATCH /webhooks/{app}/{token}/messages/{id|@original}``."""
        st = self.state
        body, files = await read_body(request)
        body = body or {}
        request[BODY] = body
        inter = self._webhook_interaction(request)
        if inter is None:
            return unknown("Webhook", 10015)
        which, msg = self._webhook_message(request, inter)
        if msg is None or msg.deleted:
            return unknown("Message", 10008)
        bad = st.check_message_body(body, [])
        if bad is not None:
            return bad
        limited, headers = self._limit(inter)
        if limited is not None:
            return limited
        st.apply_body(msg, body, files, edit=True)
        msg.flags &= ~FLAG_LOADING
        inter.record(InteractionResponse(f"edit_{which}", None, body,
                                         asyncio.get_running_loop().time(), msg.id))
        payload = st.message_payload(msg)
        if not msg.ephemeral:
            await self.rest.dispatch_message("MESSAGE_UPDATE", st.channels[msg.channel_id],
                                             payload)
        return json_answer(payload, headers=headers)

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        """``DELETE /webhooks/{app}/{token}/messages/{id|@original}`` → 204."""
        inter = self._webhook_interaction(request)
        if inter is None:
            return unknown("Webhook", 10015)
        which, msg = self._webhook_message(request, inter)
        if msg is None or msg.deleted:
            return unknown("Message", 10008)
        msg.deleted = True
        inter.record(InteractionResponse(f"delete_{which}", None, {},
                                         asyncio.get_running_loop().time(), msg.id))
        return web.Response(status=204)
