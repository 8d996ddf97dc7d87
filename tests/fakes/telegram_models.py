"""Plain data objects of the fake Telegram Bot API (users, chats, recorded calls, messages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeUser:
    """A Telegram user the tests act as."""

    id: int
    first_name: str
    language_code: str | None = "en"
    username: str | None = None
    is_bot: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The ``User`` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class FakeChat:
    """A private chat or a supergroup (optionally a forum) known to the fake.

    ``admins`` / ``owner`` drive getChatMember and getChatAdministrators; ``bot_is_admin``
    makes the bot itself an administrator; ``blocked`` makes every send answer 403.
    ``refusal`` ``(status, description)`` makes every call for the chat answer that error
    (blocked, kicked, deactivated…); ``migrated_to`` marks a basic group upgraded to a
    supergroup (calls answer 400 with ``parameters.migrate_to_chat_id``).
    """

    id: int
    type: str  # "private" | "supergroup"
    title: str | None = None
    first_name: str | None = None
    is_forum: bool = False
    admins: set[int] = field(default_factory=set)
    owner: int | None = None
    bot_is_admin: bool = False
    blocked: bool = False
    topics: set[int] = field(default_factory=set)
    refusal: tuple[int, str] | None = None
    migrated_to: int | None = None

    @property
    def is_private(self) -> bool:
        """True for a one-to-one chat with a user."""
        return self.type == "private"

    def to_dict(self) -> dict[str, Any]:
        """The ``Chat`` object as embedded in messages."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.is_private:
            data["first_name"] = self.first_name or "User"
        else:
            data["title"] = self.title or "Group"
            if self.is_forum:
                data["is_forum"] = True
        return data


@dataclass
class ApiCall:
    """One HTTP request the fake received.

    ``params`` holds the decoded fields (nested JSON decoded, ``attach://`` left as is),
    ``files`` the uploaded parts ``{part_name: (filename, bytes)}``, ``raw`` the exact body,
    ``status`` the HTTP status answered and ``description`` the error text if any.
    """

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    raw: bytes = b""
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    description: str | None = None
    path: str = ""

    def short(self) -> str:
        """A one-line human summary for failure dumps."""
        shown = {}
        for key, value in self.params.items():
            text = repr(value)
            shown[key] = text if len(text) <= 80 else text[:77] + "..."
        tail = f" -> {self.status}" + (f" {self.description}" if self.description else "")
        args = ", ".join(f"{key}={value}" for key, value in shown.items())
        return f"{self.at:10.3f} {self.method}({args}){tail}"


@dataclass
class SentMessage:
    """A message the bot sent, in its current visible state.

    ``text`` is the text (or the caption of a photo/document), ``history`` every version
    of it (first send, then each edit), ``edits`` the number of successful edits.
    """

    chat_id: int
    message_id: int
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    thread_id: int | None = None
    edits: int = 0
    photo: bool = False
    document: str | None = None
    reply_to: int | None = None
    parse_mode: str | None = None
    date: int = 0
    file_id: str | None = None
    history: list[str] = field(default_factory=list)

    def to_dict(self, chat: FakeChat, bot: FakeUser) -> dict[str, Any]:
        """The ``Message`` object Telegram returns / embeds for this message."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": chat.to_dict(),
            "from": bot.to_dict(),
        }
        if self.thread_id is not None:
            data["message_thread_id"] = self.thread_id
            data["is_topic_message"] = True
        if self.photo and self.file_id:
            data["photo"] = [
                {"file_id": self.file_id, "file_unique_id": "u" + self.file_id,
                 "width": 800, "height": 600}
            ]
        elif self.document and self.file_id:
            data["document"] = {"file_id": self.file_id, "file_unique_id": "u" + self.file_id,
                                "file_name": self.document}
        if self.photo or self.document:
            if self.text:
                data["caption"] = self.text
            if self.entities:
                data["caption_entities"] = self.entities
        else:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = self.reply_markup
        if self.edits:
            data["edit_date"] = self.date
        return data


@dataclass
class DraftCall:
    """One accepted sendMessageDraft call."""

    chat_id: int
    draft_id: int
    text: str
    entities: list[dict[str, Any]]
    thread_id: int | None
    at: float


@dataclass
class StoredFile:
    """A file the fake can serve through getFile and the file download URL.

    ``file_size`` is what Telegram reports; set it above 20 MB to make getFile fail
    with "file is too big" regardless of the real bytes.
    """

    file_id: str
    file_unique_id: str
    data: bytes
    file_size: int
    file_path: str


class CommandsDict(dict[tuple[str, str], list[dict[str, str]]]):
    """``my_commands`` mapping ``(scope_type, language_code)`` -> commands.

    The default language may be looked up as ``""`` or ``None``.
    """

    @staticmethod
    def _norm(key: Any) -> Any:
        if isinstance(key, tuple) and len(key) == 2 and key[1] is None:
            return (key[0], "")
        return key

    def __getitem__(self, key: Any) -> list[dict[str, str]]:
        return super().__getitem__(self._norm(key))

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self._norm(key))

    def get(self, key: Any, default: Any = None) -> Any:
        """Like dict.get, with ``None`` language normalised to ``""``."""
        return super().get(self._norm(key), default)
