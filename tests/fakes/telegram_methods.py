"""Bot API method handlers of the fake: each ``api_<method>`` returns the ``result``.

Handlers raise :class:`ApiError` for error answers; names are matched case-insensitively,
like Telegram does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from tests.fakes.telegram_models import DraftCall, FakeChat, SentMessage
from tests.fakes.telegram_rules import (
    CHAT_ACTIONS,
    PHOTO_UPLOAD_LIMIT,
    ApiError,
    FloodControl,
    FloodLimits,
    bad_request,
    check_entities,
    check_reply_markup,
    check_text,
    parse_html,
)
from tests.fakes.telegram_world import TelegramWorld

Params = dict[str, Any]
Files = dict[str, tuple[str, bytes]]
Handler = Callable[[Params, Files], Coroutine[Any, Any, Any]]

NOT_MODIFIED = ("message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message")


def _int(params: Params, name: str, *, required: bool = True) -> int | None:
    value = params.get(name)
    if value is None:
        if required:
            raise bad_request(f"{name} is empty" if name != "chat_id" else "chat_id is empty")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            return int(str(value))
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None
    return value


def _formatted(params: Params, text_key: str, entities_key: str) -> tuple[str | None, Any]:
    """Text and raw entities of a request; HTML parse_mode is parsed, others kept verbatim."""
    text = params.get(text_key)
    if text is not None and not isinstance(text, str):
        text = str(text)
    mode = str(params.get("parse_mode") or "").lower()
    if text is not None and mode == "html" and entities_key not in params:
        return parse_html(text)
    return text, params.get(entities_key)


class TelegramMethods(TelegramWorld):
    """The request-side half of the fake: Bot API semantics over :class:`TelegramWorld`."""

    def __init__(self, token: str, bot_id: int, bot_username: str) -> None:
        super().__init__(token, bot_id, bot_username)
        self._flood = FloodControl(FloodLimits())
        self.closing = False
        self.allowed_updates: list[str] | None = None
        self._handlers: dict[str, Handler] = {
            name[4:].lower(): getattr(self, name) for name in dir(self) if name.startswith("api_")
        }

    @property
    def limits(self) -> FloodLimits:
        """Current flood limits; assign a new :class:`FloodLimits` to change them."""
        return self._flood.limits

    @limits.setter
    def limits(self, value: FloodLimits) -> None:
        self._flood.reset(value)

    @property
    def calls_inside_retry_window(self) -> dict[int, int]:
        """Per chat id: calls made while the chat was inside a retry_after window."""
        return dict(self._flood.inside_window)

    def handler_for(self, method: str) -> Handler | None:
        """The handler of a method name (case-insensitive), None if not implemented."""
        return self._handlers.get(method.lower())

    # ------------------------------------------------------------------ shared checks
    def _target(self, params: Params) -> FakeChat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.migrated_to is not None:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           migrate_to_chat_id=chat.migrated_to)
        if chat.refusal is not None:
            raise ApiError(*chat.refusal)
        self._flood.check_window(chat.id)
        return chat

    def _thread(self, chat: FakeChat, params: Params) -> int | None:
        thread_id = _int(params, "message_thread_id", required=False)
        if thread_id is not None and chat.is_forum and thread_id not in chat.topics:
            raise bad_request("message thread not found")
        return thread_id

    def _reply_to(self, chat: FakeChat, params: Params) -> int | None:
        reply = params.get("reply_parameters")
        message_id: int | None = None
        allow_missing = False
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            message_id = _int(params, "reply_to_message_id")
            allow_missing = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        if self.message_dict(chat.id, message_id) is None:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return message_id

    def _flood_check(self, method: str, chat: FakeChat) -> None:
        if method in self._flood.limits.limited_methods:
            self._flood.check_message(chat.id, chat.is_private)

    def _store(self, method: str, chat: FakeChat, params: Params, text: str,
               entities: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        thread_id = self._thread(chat, params)
        reply_to = self._reply_to(chat, params)
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        self._flood_check(method, chat)
        sent = SentMessage(chat_id=chat.id, message_id=self._new_message_id(chat.id), text=text,
                           entities=entities, reply_markup=markup, thread_id=thread_id,
                           reply_to=reply_to, parse_mode=params.get("parse_mode"),
                           date=int(time.time()), history=[text], **extra)
        self.sent.setdefault(chat.id, {})[sent.message_id] = sent
        kind = " [photo]" if sent.photo else (f" [document {sent.document}]"
                                              if sent.document else "")
        self.transcript.append(f"[chat {chat.id}{self._thread_tag(thread_id)}] bot "
                               f"#{sent.message_id}{kind}: {text[:300]}")
        data = sent.to_dict(chat, self.bot_user)
        if reply_to is not None:
            replied = self.message_dict(chat.id, reply_to) or {}
            replied.pop("reply_to_message", None)
            data["reply_to_message"] = replied
        return data

    def _editable(self, params: Params) -> tuple[FakeChat, SentMessage]:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake")
        chat = self._target(params)
        message_id = _int(params, "message_id")
        assert message_id is not None
        sent = self.sent.get(chat.id, {}).get(message_id)
        if sent is None:
            if message_id in self.user_messages.get(chat.id, {}):
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return chat, sent

    # ------------------------------------------------------------------ bot / updates
    async def api_getMe(self, params: Params, files: Files) -> Any:
        """getMe."""
        me = self.bot_user.to_dict()
        me.update(can_join_groups=True, can_read_all_group_messages=False,
                  supports_inline_queries=False)
        return me

    async def api_getUpdates(self, params: Params, files: Files) -> Any:
        """getUpdates: long poll up to ``timeout`` s, honour ``offset``/``limit``."""
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                "active; use deleteWebhook to delete the webhook first")
        offset = _int(params, "offset", required=False) or 0
        limit = max(1, min(100, _int(params, "limit", required=False) or 100))
        timeout = float(_int(params, "timeout", required=False) or 0)
        if "allowed_updates" in params:
            self.allowed_updates = params["allowed_updates"] or None
        deadline = time.monotonic() + timeout
        while True:
            if offset:
                confirmed = [u for u in self.updates if u["update_id"] < offset]
                if confirmed:
                    self.delivered_updates.extend(confirmed)
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if self.allowed_updates:
                allowed = set(self.allowed_updates)
                self.updates = [u for u in self.updates
                                if any(key in allowed for key in u if key != "update_id")]
            if self.updates or self.closing:
                return self.updates[:limit]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            event = self._update_event
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return []

    async def api_deleteWebhook(self, params: Params, files: Files) -> Any:
        """deleteWebhook (drop_pending_updates honoured)."""
        self.webhook = None
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return True

    async def api_setWebhook(self, params: Params, files: Files) -> Any:
        """setWebhook: recorded in ``webhook``."""
        if not params.get("url"):
            self.webhook = None
            return True
        self.webhook = dict(params)
        return True

    async def api_getWebhookInfo(self, params: Params, files: Files) -> Any:
        """getWebhookInfo."""
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.updates)}

    # ------------------------------------------------------------------ messages
    async def api_sendMessage(self, params: Params, files: Files) -> Any:
        """sendMessage with length, entity, markup and flood checks."""
        chat = self._target(params)
        text, raw_entities = _formatted(params, "text", "entities")
        check_text(text)
        assert text is not None
        entities = check_entities(text, raw_entities)
        return self._store("sendMessage", chat, params, text, entities)

    async def _send_media(self, method: str, field: str, params: Params, files: Files) -> Any:
        chat = self._target(params)
        caption, raw_entities = _formatted(params, "caption", "caption_entities")
        check_text(caption, caption=True)
        entities = check_entities(caption or "", raw_entities)
        value = params.get(field)
        if not value:
            raise bad_request(f"there is no {field} in the request")
        name = field
        if isinstance(value, str) and value.startswith("attach://"):
            part = files.get(value[len("attach://"):])
            if part is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            name, data = part
            if field == "photo" and len(data) > PHOTO_UPLOAD_LIMIT:
                raise bad_request("PHOTO_INVALID_DIMENSIONS")  # what Telegram says (observed)
            kind = "photos" if field == "photo" else "documents"
            extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
            file_id = self.register_file(data, kind=kind, extension=extension).file_id
        elif isinstance(value, str) and value in self.files:
            file_id = value
        else:
            file_id = self.register_file(str(value).encode(), kind="documents").file_id
        extra: dict[str, Any] = {"file_id": file_id}
        if field == "photo":
            extra["photo"] = True
        else:
            extra["document"] = name
        return self._store(method, chat, params, caption or "", entities, **extra)

    async def api_sendPhoto(self, params: Params, files: Files) -> Any:
        """sendPhoto (multipart upload, known file_id or URL)."""
        return await self._send_media("sendPhoto", "photo", params, files)

    async def api_sendDocument(self, params: Params, files: Files) -> Any:
        """sendDocument (multipart upload, known file_id or URL)."""
        return await self._send_media("sendDocument", "document", params, files)

    async def api_editMessageText(self, params: Params, files: Files) -> Any:
        """editMessageText; a missing reply_markup removes the inline keyboard (as Telegram)."""
        chat, sent = self._editable(params)
        if sent.photo or sent.document:
            raise bad_request("there is no text in the message to edit")
        text, raw_entities = _formatted(params, "text", "entities")
        check_text(text)
        assert text is not None
        entities = check_entities(text, raw_entities)
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        if text == sent.text and entities == sent.entities and markup == sent.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self._flood_check("editMessageText", chat)
        sent.text, sent.entities, sent.reply_markup = text, entities, markup
        sent.parse_mode = params.get("parse_mode")
        sent.edits += 1
        sent.history.append(text)
        self.transcript.append(f"[chat {chat.id}] bot edit #{sent.message_id} "
                               f"({sent.edits}): {text[:300]}")
        return sent.to_dict(chat, self.bot_user)

    async def api_editMessageReplyMarkup(self, params: Params, files: Files) -> Any:
        """editMessageReplyMarkup."""
        chat, sent = self._editable(params)
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        if markup == sent.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self._flood_check("editMessageReplyMarkup", chat)
        sent.reply_markup = markup
        sent.edits += 1
        return sent.to_dict(chat, self.bot_user)

    async def api_deleteMessage(self, params: Params, files: Files) -> Any:
        """deleteMessage (bot messages, and user messages too)."""
        chat = self._target(params)
        message_id = _int(params, "message_id")
        assert message_id is not None
        if self.sent.get(chat.id, {}).pop(message_id, None) is None and \
                self.user_messages.get(chat.id, {}).pop(message_id, None) is None:
            raise bad_request("message to delete not found")
        self.deleted.append((chat.id, message_id))
        self.transcript.append(f"[chat {chat.id}] bot deleted #{message_id}")
        return True

    async def api_sendChatAction(self, params: Params, files: Files) -> Any:
        """sendChatAction (recorded in ``chat_actions``)."""
        chat = self._target(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append({**params, "chat_id": chat.id})
        return True

    async def api_sendMessageDraft(self, params: Params, files: Files) -> Any:
        """sendMessageDraft: private chats only, draft_id != 0, configurable draft limit."""
        chat = self._target(params)
        if not chat.is_private:
            raise bad_request("TEXTDRAFT_PEER_INVALID")
        draft_id = _int(params, "draft_id")
        if not draft_id:
            raise bad_request("draft_id must be non-zero")
        parsed, raw_entities = _formatted(params, "text", "entities")
        text = parsed or ""
        if text:
            check_text(text)
        entities = check_entities(text, raw_entities)
        thread_id = self._thread(chat, params)
        self._flood.check_draft(chat.id)
        self.draft_calls.append(DraftCall(chat.id, draft_id, text, entities, thread_id,
                                          time.monotonic()))
        return True
