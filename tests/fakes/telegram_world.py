"""State of the fake Telegram world and the "user" side: chats, messages, files, updates."""

from __future__ import annotations

import asyncio
import itertools
import struct
import time
from typing import Any

from tests.fakes.telegram_models import (
    CommandsDict,
    DraftCall,
    FakeChat,
    FakeUser,
    SentMessage,
    StoredFile,
)
from tests.fakes.telegram_rules import check_entities, split_like_client, utf16_len

ChatRef = FakeChat | int


def _image_size(data: bytes) -> tuple[int, int]:
    """Width/height of a PNG or JPEG (800x600 when unknown)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                break
            marker, size = data[index + 1], struct.unpack(">H", data[index + 2 : index + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return int(width), int(height)
            index += 2 + size
    return 800, 600


class TelegramWorld:
    """Chats, users, messages, files and the update queue behind :class:`FakeTelegram`."""

    def __init__(self, token: str, bot_id: int, bot_username: str) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_user = FakeUser(bot_id, "ChatBridge", None, bot_username, is_bot=True)
        self.chats: dict[int, FakeChat] = {}
        self.users: dict[int, FakeUser] = {}
        self.sent: dict[int, dict[int, SentMessage]] = {}
        self.user_messages: dict[int, dict[int, dict[str, Any]]] = {}
        self.deleted: list[tuple[int, int]] = []
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.file_downloads: list[str] = []
        self.draft_calls: list[DraftCall] = []
        self.answered_callbacks: list[dict[str, Any]] = []
        self.pending_callbacks: set[str] = set()
        self.my_commands = CommandsDict()
        self.reactions: list[dict[str, Any]] = []
        self.chat_actions: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self.transcript: list[str] = []
        self.updates: list[dict[str, Any]] = []
        self.delivered_updates: list[dict[str, Any]] = []
        self._next_message_id: dict[int, int] = {}
        self._update_ids = itertools.count(700_000)
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(9_000)
        self._update_event = asyncio.Event()

    # ------------------------------------------------------------------ setup
    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        language_code: str | None = "en",
        username: str | None = None,
    ) -> FakeUser:
        """Register (or update) a user; unknown users are auto-created on first use."""
        user = self.users.get(user_id)
        if user is None:
            user = FakeUser(user_id, first_name or f"User{user_id}", language_code, username)
            self.users[user_id] = user
        else:
            if first_name:
                user.first_name = first_name
            if username:
                user.username = username
            user.language_code = language_code
        return user

    def private_chat(
        self, user_id: int, first_name: str = "Ann", language_code: str | None = "en",
        username: str | None = None,
    ) -> FakeChat:
        """A private chat with a user (chat id == user id)."""
        self.user(user_id, first_name, language_code, username)
        chat = FakeChat(id=user_id, type="private", first_name=first_name)
        self.chats[user_id] = chat
        return chat

    def group_chat(
        self, chat_id: int = -100123, title: str = "G", is_forum: bool = False,
        admins: set[int] | None = None, owner: int | None = None, bot_is_admin: bool = False,
        basic: bool = False,
    ) -> FakeChat:
        """A supergroup (a forum when ``is_forum``; a basic ``group`` when ``basic``) with
        the given admin user ids."""
        chat = FakeChat(id=chat_id, type="group" if basic else "supergroup", title=title,
                        is_forum=is_forum, admins=set(admins or ()), owner=owner,
                        bot_is_admin=bot_is_admin)
        self.chats[chat_id] = chat
        return chat

    def migrate_group(self, old: ChatRef, new_chat_id: int, by_user: int | None = None
                      ) -> FakeChat:
        """Upgrade a basic group to a supergroup with a new id, as Telegram does: the old
        group gets a service message with ``migrate_to_chat_id``, the new supergroup one
        with ``migrate_from_chat_id`` (both queued as updates); from then on every call for
        the old id answers 400 "group chat was upgraded to a supergroup chat" with
        ``parameters.migrate_to_chat_id``."""
        group = self._chat(old)
        user_id = by_user if by_user is not None else (group.owner or min(group.admins or {1}))
        new = self.group_chat(new_chat_id, title=group.title or "G", admins=group.admins,
                              owner=group.owner, bot_is_admin=group.bot_is_admin)
        sender = (self.users.get(user_id) or self.user(user_id)).to_dict()
        for chat, field_name, value in ((group, "migrate_to_chat_id", new.id),
                                        (new, "migrate_from_chat_id", group.id)):
            self.push_update({"message": {
                "message_id": self._new_message_id(chat.id), "date": int(time.time()),
                "chat": chat.to_dict(), "from": sender, field_name: value}})
        group.migrated_to = new.id
        self.transcript.append(f"[chat {group.id}] upgraded to supergroup {new.id}")
        return new

    def refuse(self, chat: ChatRef, status: int = 403,
               description: str = "Forbidden: bot was blocked by the user") -> None:
        """From now on every call for ``chat`` answers ``status`` / ``description`` (the
        user blocked the bot, the bot was kicked, the account was deleted…)."""
        fake_chat = self._chat(chat)
        fake_chat.refusal = (status, description)
        self.transcript.append(f"[chat {fake_chat.id}] refuses the bot: {description}")

    def bot_status_changed(self, chat: ChatRef, status: str, by_user: int = 1) -> None:
        """Queue a ``my_chat_member`` update: the bot's status in ``chat`` became
        ``status`` ("kicked" when blocked or removed, "member" when back)."""
        fake_chat = self._chat(chat)
        if status in ("kicked", "left"):
            description = ("Forbidden: bot was blocked by the user" if fake_chat.is_private
                           else f"Forbidden: bot was kicked from the {fake_chat.type} chat")
            fake_chat.refusal = (403, description)
        else:
            fake_chat.refusal = None
        user = (self.users.get(by_user) or self.user(by_user)).to_dict()
        bot = self.bot_user.to_dict()
        old = {"status": "member", "user": bot}
        new: dict[str, Any] = {"status": status, "user": bot}
        if status == "kicked":
            new["until_date"] = 0
        self.push_update({"my_chat_member": {
            "chat": fake_chat.to_dict(), "from": user, "date": int(time.time()),
            "old_chat_member": old, "new_chat_member": new}})

    def create_topic(self, chat: ChatRef, name: str = "Topic") -> int:
        """Create a forum topic; returns its message_thread_id."""
        fake_chat = self._chat(chat)
        thread_id = self._new_message_id(fake_chat.id)
        fake_chat.topics.add(thread_id)
        self.transcript.append(f"[chat {fake_chat.id}] topic {thread_id} created: {name}")
        return thread_id

    # ------------------------------------------------------------------ files
    def register_file(
        self, data: bytes, *, kind: str = "documents", extension: str = "bin",
        file_size: int | None = None,
    ) -> StoredFile:
        """Store bytes so that getFile / downloads serve them; returns the file record."""
        number = next(self._file_ids)
        file_id = f"F{number:06d}-{kind}"
        stored = StoredFile(file_id=file_id, file_unique_id=f"U{number:06d}", data=data,
                            file_size=len(data) if file_size is None else file_size,
                            file_path=f"{kind}/file_{number}.{extension}")
        self.files[file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    # ------------------------------------------------------------------ user side
    def user_sends(
        self, chat: ChatRef, user_id: int, text: str | None = None, *,
        language_code: str | None = None, reply_to: int | None = None,
        entities: list[dict[str, Any]] | None = None, thread_id: int | None = None,
        photo: bytes | None = None, document: tuple[str, bytes, str] | None = None,
        caption: str | None = None, caption_entities: list[dict[str, Any]] | None = None,
        media_group_id: str | None = None, forward: bool = False,
        file_size: int | None = None, content: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a ``message`` update from ``user_id`` in ``chat``; return the Message dict.

        Text may exceed 4096 units (use :meth:`user_pastes` to split like a real client).
        ``file_size`` overrides the reported size of the photo/document (e.g. 25 MB to make
        getFile answer "file is too big"). ``content`` adds raw Message fields (a
        ``sticker``, ``location``, ``voice``… object as the Bot API sends it).
        """
        fake_chat = self._chat(chat)
        user = self.users.get(user_id) or self.user(user_id, language_code=language_code or "en")
        sender = user.to_dict()
        if language_code is not None:
            sender["language_code"] = language_code
        message: dict[str, Any] = {
            "message_id": self._new_message_id(fake_chat.id),
            "date": int(time.time()),
            "chat": fake_chat.to_dict(),
            "from": sender,
        }
        if thread_id is not None:
            if fake_chat.is_forum:
                fake_chat.topics.add(thread_id)
                message["is_topic_message"] = True
            message["message_thread_id"] = thread_id
        if text is not None:
            message["text"] = text
            if entities:
                check_entities(text, entities)
                message["entities"] = entities
        if photo is not None:
            width, height = _image_size(photo)
            thumb = self.register_file(photo, kind="photos", extension="jpg")
            full = self.register_file(photo, kind="photos", extension="jpg", file_size=file_size)
            small = max(1, min(width, 90)), max(1, min(height, 90))
            message["photo"] = [
                {"file_id": thumb.file_id, "file_unique_id": thumb.file_unique_id,
                 "width": small[0], "height": small[1], "file_size": thumb.file_size},
                {"file_id": full.file_id, "file_unique_id": full.file_unique_id,
                 "width": width, "height": height, "file_size": full.file_size},
            ]
        if document is not None:
            name, data, mime = document
            extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
            stored = self.register_file(data, kind="documents", extension=extension,
                                        file_size=file_size)
            message["document"] = {"file_id": stored.file_id,
                                   "file_unique_id": stored.file_unique_id,
                                   "file_name": name, "mime_type": mime,
                                   "file_size": stored.file_size}
        if content:
            message.update(content)
        if caption is not None:
            message["caption"] = caption
            if caption_entities:
                message["caption_entities"] = caption_entities
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        if forward:
            message["forward_origin"] = {"type": "hidden_user", "sender_user_name": "Someone",
                                         "date": message["date"]}
        if reply_to is not None:
            replied = self.message_dict(fake_chat.id, reply_to)
            if replied is None:
                raise AssertionError(f"reply_to: message {reply_to} not in chat {fake_chat.id}")
            replied.pop("reply_to_message", None)
            message["reply_to_message"] = replied
        self.user_messages.setdefault(fake_chat.id, {})[message["message_id"]] = message
        shown = text if text is not None else caption or ""
        extra = " [photo]" if photo is not None else (f" [document {document[0]}]"
                                                       if document else "")
        self.transcript.append(
            f"[chat {fake_chat.id}{self._thread_tag(thread_id)}] user {user_id} "
            f"#{message['message_id']}{extra}: {shown[:300]}"
        )
        self.push_update({"message": message})
        return message

    def user_pastes(self, chat: ChatRef, user_id: int, long_text: str,
                    **kwargs: Any) -> list[dict[str, Any]]:
        """Send ``long_text`` as a client does: consecutive messages of <= 4096 units each."""
        return [self.user_sends(chat, user_id, part, **kwargs)
                for part in split_like_client(long_text)]

    def mention_text(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """``("@<bot> text", [mention entity])`` for addressing the bot in a group."""
        mention = f"@{self.bot_username}"
        return f"{mention} {text}", [{"type": "mention", "offset": 0,
                                      "length": utf16_len(mention)}]

    def command(self, chat: ChatRef, user_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        """Send a ``/command args`` message with its bot_command entity."""
        head = text.split(maxsplit=1)[0] if text.strip() else text
        entity = {"type": "bot_command", "offset": 0, "length": utf16_len(head)}
        return self.user_sends(chat, user_id, text, entities=[entity], **kwargs)

    def user_deletes(self, chat: ChatRef, message_id: int) -> None:
        """A chat admin deletes a bot message in the app (Telegram tells bots nothing:
        no update exists for deletions); later edits of it get "message to edit not
        found"."""
        chat_id = chat if isinstance(chat, int) else chat.id
        if self.sent.get(chat_id, {}).pop(message_id, None) is None:
            raise KeyError(f"no bot message #{message_id} in chat {chat_id}")
        self.transcript.append(f"[chat {chat_id}] user deleted #{message_id}")

    def press_button(
        self, chat: ChatRef, user_id: int, message_id: int, callback_data: str, *,
        check: bool = True,
    ) -> dict[str, Any]:
        """Press an inline button of a bot message; queue and return the CallbackQuery dict.

        With ``check`` the button must currently exist on that message.
        """
        fake_chat = self._chat(chat)
        sent = self.sent.get(fake_chat.id, {}).get(message_id)
        if check:
            buttons = [button.get("callback_data")
                       for row in ((sent.reply_markup or {}).get("inline_keyboard", [])
                                   if sent else [])
                       for button in row]
            if callback_data not in buttons:
                raise AssertionError(f"no button {callback_data!r} on message {message_id} "
                                     f"in chat {fake_chat.id} (buttons: {buttons})")
        user = self.users.get(user_id) or self.user(user_id)
        query: dict[str, Any] = {
            "id": str(next(self._callback_ids)),
            "from": user.to_dict(),
            "chat_instance": f"ci{fake_chat.id}",
            "data": callback_data,
        }
        if sent is not None:
            query["message"] = sent.to_dict(fake_chat, self.bot_user)
        self.pending_callbacks.add(query["id"])
        self.transcript.append(f"[chat {fake_chat.id}] user {user_id} pressed "
                               f"{callback_data!r} on #{message_id}")
        self.push_update({"callback_query": query})
        return query

    def push_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (``update_id`` is added); wakes long-polling getUpdates."""
        update = {"update_id": next(self._update_ids), **payload}
        self.updates.append(update)
        self._update_event.set()
        return update

    # ------------------------------------------------------------------ helpers
    def message_dict(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """Current Message dict of a user or bot message (None if unknown/deleted)."""
        user_message = self.user_messages.get(chat_id, {}).get(message_id)
        if user_message is not None:
            return dict(user_message)
        sent = self.sent.get(chat_id, {}).get(message_id)
        if sent is not None:
            return sent.to_dict(self.chats[chat_id], self.bot_user)
        return None

    def _chat(self, chat: ChatRef) -> FakeChat:
        if isinstance(chat, FakeChat):
            return chat
        if chat not in self.chats:
            raise AssertionError(f"unknown chat {chat}: create it with private_chat/group_chat")
        return self.chats[chat]

    def _new_message_id(self, chat_id: int) -> int:
        next_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = next_id + 1
        return next_id

    @staticmethod
    def _thread_tag(thread_id: int | None) -> str:
        return f" thread {thread_id}" if thread_id is not None else ""
