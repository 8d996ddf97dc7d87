"""Less central Bot API handlers of the fake: callbacks, reactions, files, commands, members."""

from __future__ import annotations

from typing import Any

from tests.fakes.telegram_methods import (
    NOT_MODIFIED,
    Files,
    Params,
    TelegramMethods,
    _int,
)
from tests.fakes.telegram_models import FakeChat
from tests.fakes.telegram_rules import (
    DOWNLOAD_LIMIT,
    MEDIA_GROUP_SIZES,
    bad_request,
    check_reply_markup,
)

ADMIN_RIGHTS = dict.fromkeys(
    ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
     "can_manage_video_chats", "can_restrict_members", "can_promote_members",
     "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
     "can_delete_stories", "can_send_welcome_messages"), False)


class TelegramExtraMethods(TelegramMethods):
    """callbacks, reactions, getFile, bot commands, chat members and getChat."""

    async def api_setMessageReaction(self, params: Params, files: Files) -> Any:
        """setMessageReaction (recorded in ``reactions``)."""
        chat = self._target(params)
        message_id = _int(params, "message_id")
        assert message_id is not None
        if self.message_dict(chat.id, message_id) is None:
            raise bad_request("message to react not found")
        self.reactions.append({**params, "chat_id": chat.id})
        return True

    async def api_answerCallbackQuery(self, params: Params, files: Files) -> Any:
        """answerCallbackQuery: each query can be answered once."""
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self.pending_callbacks:
            raise bad_request("query is too old and response timeout expired or query ID "
                              "is invalid")
        self.pending_callbacks.discard(query_id)
        self.answered_callbacks.append(dict(params))
        return True

    # ------------------------------------------------------------------ files
    async def api_getFile(self, params: Params, files: Files) -> Any:
        """getFile: 400 "file is too big" above 20 MB."""
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": stored.file_size, "file_path": stored.file_path}

    # ------------------------------------------------------------------ commands
    @staticmethod
    def _scope_key(params: Params) -> tuple[str, str]:
        scope = params.get("scope")
        scope_type = scope.get("type", "default") if isinstance(scope, dict) else "default"
        return scope_type, str(params.get("language_code") or "")

    async def api_setMyCommands(self, params: Params, files: Files) -> Any:
        """setMyCommands: validated, stored per (scope type, language_code)."""
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be an array of at most 100 BotCommand")
        for item in commands:
            name = str(item.get("command", "")) if isinstance(item, dict) else ""
            if not (1 <= len(name) <= 32 and all(c.islower() or c.isdigit() or c == "_"
                                                 for c in name)):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(item.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.my_commands[self._scope_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def api_deleteMyCommands(self, params: Params, files: Files) -> Any:
        """deleteMyCommands."""
        self.my_commands.pop(self._scope_key(params), None)
        return True

    async def api_getMyCommands(self, params: Params, files: Files) -> Any:
        """getMyCommands."""
        return self.my_commands.get(self._scope_key(params), [])

    # ------------------------------------------------------------------ members
    def _member(self, chat: FakeChat, user_id: int) -> dict[str, Any]:
        user = (self.bot_user if user_id == self.bot_id
                else self.users.get(user_id) or self.user(user_id))
        if not chat.is_private and user_id == chat.owner:
            return {"status": "creator", "user": user.to_dict(), "is_anonymous": False}
        if not chat.is_private and (user_id in chat.admins or
                                    (user_id == self.bot_id and chat.bot_is_admin)):
            return {"status": "administrator", "user": user.to_dict(), **ADMIN_RIGHTS,
                    "can_manage_chat": True, "can_delete_messages": True}
        return {"status": "member", "user": user.to_dict()}

    async def api_getChatMember(self, params: Params, files: Files) -> Any:
        """getChatMember: creator / administrator from the chat's config, else member."""
        chat = self._target(params)
        user_id = _int(params, "user_id")
        assert user_id is not None
        return self._member(chat, user_id)

    async def api_getChatAdministrators(self, params: Params, files: Files) -> Any:
        """getChatAdministrators."""
        chat = self._target(params)
        ids = ([chat.owner] if chat.owner is not None else []) + sorted(chat.admins)
        if chat.bot_is_admin:
            ids.append(self.bot_id)
        return [self._member(chat, user_id) for user_id in dict.fromkeys(ids)]

    async def api_getChat(self, params: Params, files: Files) -> Any:
        """getChat (ChatFullInfo essentials)."""
        chat = self._target(params)
        return {**chat.to_dict(), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                        "unique_gifts": False, "premium_subscription": False,
                                        "gifts_from_channels": False}}


class TelegramMediaMethods(TelegramExtraMethods):
    """sendMediaGroup, sendAudio, sendVoice, editMessageMedia, editMessageCaption."""

    async def api_sendAudio(self, params: Params, files: Files) -> Any:
        """sendAudio (stored like a document named by its file)."""
        return await self._send_media("sendAudio", "audio", params, files)

    async def api_sendVoice(self, params: Params, files: Files) -> Any:
        """sendVoice (stored like a document named by its file)."""
        return await self._send_media("sendVoice", "voice", params, files)

    async def api_sendMediaGroup(self, params: Params, files: Files) -> Any:
        """sendMediaGroup: 2-10 items; the method takes no reply_markup (Bot API), so a
        keyboard sent with it is refused here (Telegram would drop it silently)."""
        media = params.get("media")
        if not isinstance(media, list) or len(media) not in MEDIA_GROUP_SIZES:
            raise bad_request("wrong number of media in the group: must be 2-10")
        if params.get("reply_markup"):
            raise bad_request("media groups can't have a reply markup")  # invented wording
        kinds = {item.get("type") for item in media}
        if len(kinds) > 1 and kinds != {"photo", "video"}:
            raise bad_request("documents and audio can't be mixed with other media types")
        sent = []
        for index, item in enumerate(media):
            field = "photo" if item.get("type") == "photo" else "document"
            single = {k: v for k, v in params.items() if k != "media"}
            single[field] = item.get("media")
            if item.get("caption"):
                single["caption"] = item["caption"]
                single["caption_entities"] = item.get("caption_entities")
            if index:
                single.pop("reply_parameters", None)
            sent.append(await self._send_media("sendMediaGroup", field, single, files))
        group_id = str(sent[0]["message_id"])
        for message in sent:
            message["media_group_id"] = group_id
        return sent

    async def api_editMessageMedia(self, params: Params, files: Files) -> Any:
        """editMessageMedia: only on a photo/document message (text messages cannot
        become media: "there is no media in the message to edit"); counted against the
        flood limits like editMessageText (``FloodLimits.limited_methods``)."""
        chat, sent = self._editable(params)
        if not (sent.photo or sent.document):
            raise bad_request("there is no media in the message to edit")
        media = params.get("media")
        if not isinstance(media, dict) or not media.get("media"):
            raise bad_request("can't parse InputMedia")
        self._flood_check("editMessageMedia", chat)
        value = str(media["media"])
        if value.startswith("attach://"):
            part = files.get(value[len("attach://"):])
            if part is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            name, data = part
            sent.file_id = self.register_file(data, kind="photos").file_id
        else:
            name = value
        sent.photo = media.get("type") == "photo"
        sent.document = None if sent.photo else name
        caption = str(media.get("caption") or "")
        sent.text, sent.entities = caption, list(media.get("caption_entities") or [])
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        sent.reply_markup = markup
        sent.edits += 1
        sent.history.append(caption)
        self.transcript.append(f"[chat {chat.id}] bot edit media #{sent.message_id}: "
                               f"{caption[:100]}")
        return sent.to_dict(chat, self.bot_user)

    async def api_editMessageCaption(self, params: Params, files: Files) -> Any:
        """editMessageCaption (media messages only; counted against the flood limits
        like editMessageText)."""
        chat, sent = self._editable(params)
        if not (sent.photo or sent.document):
            raise bad_request("there is no caption in the message to edit")
        caption = str(params.get("caption") or "")
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        if caption == sent.text and markup == sent.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self._flood_check("editMessageCaption", chat)
        sent.text, sent.reply_markup = caption, markup
        sent.entities = list(params.get("caption_entities") or [])
        sent.edits += 1
        sent.history.append(caption)
        return sent.to_dict(chat, self.bot_user)
