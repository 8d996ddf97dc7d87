"""The fake Discord world: users, guild, channels, messages, and their wire payloads."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import BodyPartReader, web

from tests.fakes.discord_models import (
    ADMIN_PERMISSIONS,
    BOT_PERMISSIONS,
    DM_CHANNEL,
    EVERYONE_PERMISSIONS,
    FLAG_EPHEMERAL,
    TEXT_CHANNEL,
    ApiCall,
    DiscordLimits,
    FakeChannel,
    FakeFile,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    RateLimiter,
    SnowflakeGen,
    error_answer,
    iso_now,
    too_long_errors,
)

JOINED_AT = "2024-01-01T00:00:00+00:00"
BODY: web.RequestKey[Any] = web.RequestKey("fake_discord_body")  # parsed body, for calls


class DiscordState:
    """Everything the fake knows, plus builders for the JSON discord.py expects."""

    def __init__(
        self,
        *,
        token: str,
        app_id: int,
        bot_user_id: int,
        bot_username: str,
        guild_id: int,
        channel_count: int,
        limits: DiscordLimits | None,
    ) -> None:
        self.token = token
        self.app_id = app_id
        self.bot_user_id = bot_user_id
        self.guild_id = guild_id
        self.bot_role_id = guild_id + 1
        self.admin_role_id = guild_id + 2  # Administrator | Manage Server
        self.ids = SnowflakeGen()
        self.limits = limits or DiscordLimits()
        self.limiter = RateLimiter(self.limits)
        self.users: dict[int, FakeUser] = {
            bot_user_id: FakeUser(bot_user_id, bot_username, bot=True, roles=[self.bot_role_id])
        }
        self.channels: dict[int, FakeChannel] = {}
        self.text_channel_ids: list[int] = []
        for i in range(max(channel_count, 1)):
            self._make_text_channel(f"general-{i}" if i else "general")
        self.messages: dict[int, FakeMessage] = {}
        self._channel_order: dict[int, list[int]] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.interactions_by_token: dict[str, FakeInteraction] = {}
        self.synced_commands: dict[str, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[str, str], int] = {}
        self.threads_created: list[FakeChannel] = []
        self.calls: list[ApiCall] = []
        self.rate_limited = 0
        self.typing: list[int] = []  # channel ids, one per POST /typing
        self.pending_files: dict[str, FakeFile] = {}  # slash-command attachments by id
        self.cdn_fetches: list[int] = []  # attachment ids served by the CDN route, in order
        # Discord echoes the bot's own messages/edits over the gateway; benchmarks may
        # switch this off to save client-side parsing.
        self.echo_bot_messages = True
        self.site = ""  # "http://127.0.0.1:PORT", set when the server starts

    # ---- world building -------------------------------------------------------------
    def _make_text_channel(self, name: str) -> FakeChannel:
        cid = self.ids.next()
        ch = FakeChannel(cid, TEXT_CHANNEL, name, guild_id=self.guild_id,
                         position=len(self.text_channel_ids))
        self.channels[cid] = ch
        self.text_channel_ids.append(cid)
        return ch

    def user(self, user_id: int, username: str | None = None) -> FakeUser:
        """Get or create a (human) user."""
        u = self.users.get(user_id)
        if u is None:
            u = self.users[user_id] = FakeUser(user_id, username or f"user{user_id}")
        elif username:
            u.username = username
        return u

    def dm_channel(self, user_id: int) -> FakeChannel:
        """The DM channel between the bot and ``user_id`` (created on first use)."""
        for ch in self.channels.values():
            if ch.type == DM_CHANNEL and ch.recipient_id == user_id:
                return ch
        self.user(user_id)
        ch = FakeChannel(self.ids.next(), DM_CHANNEL, recipient_id=user_id)
        self.channels[ch.id] = ch
        return ch

    def command_id(self, scope: str, name: str) -> int:
        """Stable id of the command ``name`` in ``scope`` ("global" or "guild:<id>")."""
        key = (scope, name)
        if key not in self._command_ids:
            self._command_ids[key] = self.ids.next()
        return self._command_ids[key]

    # ---- payloads -------------------------------------------------------------------
    def user_payload(self, user_id: int) -> dict[str, Any]:
        """User object."""
        u = self.user(user_id)
        data: dict[str, Any] = {
            "id": str(u.id), "username": u.username, "discriminator": "0",
            "global_name": u.username, "avatar": None, "public_flags": 0,
        }
        if u.bot:
            data["bot"] = True
        return data

    def member_payload(self, user_id: int, *, with_user: bool = True) -> dict[str, Any]:
        """Guild member object (permissions included, as interactions carry them)."""
        u = self.user(user_id)
        data: dict[str, Any] = {
            "roles": [str(r) for r in u.roles], "joined_at": JOINED_AT, "deaf": False,
            "mute": False, "flags": 0, "pending": False, "nick": None, "avatar": None,
            "communication_disabled_until": None,
            "permissions": str(self.permissions_of(user_id)),
        }
        if with_user:
            data["user"] = self.user_payload(user_id)
        return data

    def permissions_of(self, user_id: int) -> int:
        """Guild-level permissions of a user (everyone + bot role)."""
        perms = EVERYONE_PERMISSIONS
        roles = self.user(user_id).roles
        if self.bot_role_id in roles:
            perms |= BOT_PERMISSIONS
        if self.admin_role_id in roles:  # Discord sends every bit for administrators
            perms |= ADMIN_PERMISSIONS | ((1 << 51) - 1)
        return perms

    def roles_payload(self) -> list[dict[str, Any]]:
        """@everyone, the bot's managed role and an "admin" role."""
        def role(rid: int, name: str, perms: int, pos: int, managed: bool) -> dict[str, Any]:
            return {"id": str(rid), "name": name, "permissions": str(perms), "position": pos,
                    "color": 0, "hoist": False, "managed": managed, "mentionable": False,
                    "icon": None, "unicode_emoji": None, "flags": 0}
        return [role(self.guild_id, "@everyone", EVERYONE_PERMISSIONS, 0, False),
                role(self.bot_role_id, "chatbridge", BOT_PERMISSIONS, 1, True),
                role(self.admin_role_id, "admin", ADMIN_PERMISSIONS, 2, False)]

    def channel_payload(self, ch: FakeChannel) -> dict[str, Any]:
        """Channel object for any channel type."""
        if ch.type == DM_CHANNEL:
            assert ch.recipient_id is not None
            return {"id": str(ch.id), "type": DM_CHANNEL, "last_message_id": None,
                    "flags": 0, "recipients": [self.user_payload(ch.recipient_id)]}
        data: dict[str, Any] = {
            "id": str(ch.id), "type": ch.type, "name": ch.name, "guild_id": str(ch.guild_id),
            "position": ch.position, "permission_overwrites": [], "nsfw": False,
            "rate_limit_per_user": 0, "topic": None, "last_message_id": None, "flags": 0,
            "parent_id": str(ch.parent_id) if ch.parent_id else None,
        }
        if ch.is_thread:
            data.update({
                "owner_id": str(ch.owner_id), "message_count": 0, "member_count": 1,
                "total_message_sent": 0,
                "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                    "archive_timestamp": iso_now(), "locked": False,
                                    "create_timestamp": iso_now()},
            })
        return data

    def guild_payload(self) -> dict[str, Any]:
        """Full GUILD_CREATE payload (text channels, roles, members incl. the bot)."""
        member_ids = [self.bot_user_id] + [u for u in self.users if u != self.bot_user_id]
        text = [self.channels[c] for c in self.text_channel_ids]
        threads = [c for c in self.channels.values() if c.is_thread]
        return {
            "id": str(self.guild_id), "name": "Fake Guild", "icon": None, "splash": None,
            "discovery_splash": None, "owner_id": "1",
            "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0,
            "features": [], "mfa_level": 0, "application_id": None, "system_channel_id": None,
            "system_channel_flags": 0, "rules_channel_id": None, "vanity_url_code": None,
            "description": None, "banner": None, "premium_tier": 0,
            "preferred_locale": "en-US", "nsfw_level": 0, "premium_progress_bar_enabled": False,
            "roles": self.roles_payload(), "emojis": [], "stickers": [],
            "joined_at": JOINED_AT, "large": False, "unavailable": False,
            "member_count": len(member_ids), "voice_states": [],
            "members": [self.member_payload(u) for u in member_ids],
            "channels": [self.channel_payload(c) for c in text],
            "threads": [self.channel_payload(c) for c in threads],
            "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def attachment_payload(self, channel_id: int, att_id: int, f: FakeFile) -> dict[str, Any]:
        """Attachment object whose URL points at the fake's CDN route."""
        url = f"{self.site}/cdn/attachments/{channel_id}/{att_id}/{f.filename}"
        return {"id": str(att_id), "filename": f.filename, "size": len(f.data), "url": url,
                "proxy_url": url, "content_type": f.content_type}

    def message_payload(self, msg: FakeMessage, *, nested: bool = False) -> dict[str, Any]:
        """Message object as the REST API and MESSAGE_CREATE carry it."""
        ch = self.channels.get(msg.channel_id)
        guild_id = ch.guild_id if ch else None
        author = self.users[msg.author_id]
        data: dict[str, Any] = {
            "id": str(msg.id), "channel_id": str(msg.channel_id), "type": 0,
            "author": self.user_payload(msg.author_id), "content": msg.content,
            "timestamp": msg.timestamp, "edited_timestamp": msg.edited_timestamp,
            "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": msg.attachments, "embeds": msg.embeds, "components": msg.components,
            "pinned": False, "flags": msg.flags,
        }
        if msg.sticker_items:
            data["sticker_items"] = msg.sticker_items
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
            if not author.bot or msg.webhook_id is None:
                data["member"] = self.member_payload(msg.author_id, with_user=False)
        if msg.webhook_id is not None:
            data["webhook_id"] = str(msg.webhook_id)
            data["application_id"] = str(self.app_id)
        if msg.interaction_id is not None:
            inter = self.interactions.get(msg.interaction_id)
            if inter is not None:
                data["type"] = 20 if inter.type == 2 else 0
                data["interaction_metadata"] = {
                    "id": str(inter.id), "type": inter.type,
                    "user": self.user_payload(inter.user_id),
                    "authorizing_integration_owners": {},
                }
        if msg.reference_id is not None:
            data["type"] = 19
            data["message_reference"] = {"type": 0, "message_id": str(msg.reference_id),
                                         "channel_id": str(msg.channel_id)}
            if guild_id is not None:
                data["message_reference"]["guild_id"] = str(guild_id)
            if not nested:
                ref = self.messages.get(msg.reference_id)
                data["referenced_message"] = (
                    self.message_payload(ref, nested=True) if ref and not ref.deleted else None)
        return data

    # ---- messages -------------------------------------------------------------------
    def add_message(self, msg: FakeMessage) -> FakeMessage:
        """Store a new message in its channel."""
        self.messages[msg.id] = msg
        self._channel_order.setdefault(msg.channel_id, []).append(msg.id)
        return msg

    def channel_messages(
        self, channel_id: int, *, include_users: bool = False, include_ephemeral: bool = False
    ) -> list[FakeMessage]:
        """Visible messages of a channel (current state after edits), oldest first.

        By default only the bot's messages (incl. non-ephemeral interaction responses).
        """
        out = []
        for mid in self._channel_order.get(channel_id, []):
            m = self.messages[mid]
            if m.deleted or (m.ephemeral and not include_ephemeral):
                continue
            if not include_users and m.author_id != self.bot_user_id:
                continue
            out.append(m)
        return out

    def check_message_body(self, body: dict[str, Any], path: list[str]) -> web.Response | None:
        """Return a 400 answer if the body breaks Discord's size rules, else None."""
        limit = self.limits.max_content
        content = body.get("content")
        if isinstance(content, str) and len(content) > limit:
            return error_answer(400, "Invalid Form Body", 50035,
                                too_long_errors([*path, "content"], limit))
        for i, emb in enumerate(body.get("embeds") or []):
            desc = emb.get("description")
            if isinstance(desc, str) and len(desc) > 4096:
                return error_answer(400, "Invalid Form Body", 50035,
                                    too_long_errors([*path, "embeds", str(i), "description"], 4096))
        return None

    def apply_body(self, msg: FakeMessage, body: dict[str, Any], files: list[FakeFile],
                   *, edit: bool) -> None:
        """Apply a create/edit body (content, embeds, components, attachments, flags)."""
        if edit:
            msg.history.append(msg.content)
            msg.edits += 1
            msg.edited_timestamp = iso_now()
        if "content" in body:
            msg.content = body["content"] or ""
        if "embeds" in body:
            msg.embeds = list(body["embeds"] or [])
        if "components" in body:
            msg.components = list(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            keep = msg.flags & FLAG_EPHEMERAL
            msg.flags = (int(body["flags"]) & ~FLAG_EPHEMERAL) | keep
        if "attachments" in body or files:
            self._apply_attachments(msg, body.get("attachments"), files)

    def _apply_attachments(self, msg: FakeMessage, spec: list[dict[str, Any]] | None,
                           files: list[FakeFile]) -> None:
        """Keep referenced existing attachments, add uploaded ``files[n]``."""
        kept: list[dict[str, Any]] = []
        new_files: dict[str, FakeFile] = {}
        old = {a["id"]: a for a in msg.attachments}
        items = spec if spec is not None else (
            list(msg.attachments) + [{"id": i} for i in range(len(files))])
        for item in items:
            aid = item.get("id")
            if isinstance(aid, str) and aid in old:
                kept.append(old[aid])
                new_files[aid] = msg.files[aid]
            elif aid is not None and int(aid) < len(files):
                f = files[int(aid)]
                if item.get("filename"):
                    f = FakeFile(item["filename"], f.data, f.content_type)
                new_id = self.ids.next()
                kept.append(self.attachment_payload(msg.channel_id, new_id, f))
                new_files[str(new_id)] = f
        msg.attachments = kept
        msg.files = new_files

    def find_file(self, attachment_id: int) -> FakeFile | None:
        """File bytes of an attachment id, searching all messages and pending uploads."""
        key = str(attachment_id)
        if key in self.pending_files:
            return self.pending_files[key]
        for m in self.messages.values():
            if key in m.files:
                return m.files[key]
        return None


async def read_body(request: web.Request) -> tuple[Any, list[FakeFile]]:
    """Parse a JSON or multipart (``payload_json`` + ``files[n]``) request body."""
    ctype = request.content_type
    files: dict[int, FakeFile] = {}
    if ctype.startswith("multipart/"):
        payload: Any = None
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            name = part.name or ""
            raw = await part.read()
            if name == "payload_json":
                payload = json.loads(raw)
            elif name.startswith("files[") or name.startswith("file"):
                idx = int(name[6:-1]) if name.startswith("files[") else len(files)
                ptype = part.headers.get("Content-Type", "application/octet-stream")
                files[idx] = FakeFile(part.filename or f"file{idx}", bytes(raw), ptype)
        return payload, [files[i] for i in sorted(files)]
    raw = await request.read()
    if not raw:
        return None, []
    return json.loads(raw), []
