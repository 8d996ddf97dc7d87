"""Who is talking, where, and which conversation that maps to."""

from __future__ import annotations

from dataclasses import dataclass

from core.storage import ScopeKey


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A place messages come from: a private chat, a group, a channel, a thread."""

    platform: str
    chat_id: str
    thread_id: str = ""
    is_private: bool = False


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind a message or command."""

    platform: str
    user_id: str
    name: str = ""
    language: str = "en"
    is_chat_admin: bool = False


def conversation_key(chat: ChatRef, actor: Actor, *, per_user: bool) -> str:
    """The history key: platform, chat, thread/topic, and the user in per-user mode."""
    parts = [chat.platform, chat.chat_id]
    if chat.thread_id:
        parts += ["t", chat.thread_id]
    if per_user and not chat.is_private:
        parts += ["u", actor.user_id]
    return ":".join(parts)


def user_in_chat_scope(chat: ChatRef, actor: Actor) -> ScopeKey:
    """The narrowest settings scope: this user in this chat."""
    return ScopeKey(chat.platform, chat.chat_id, actor.user_id)


def chat_scope(chat: ChatRef) -> ScopeKey:
    """Settings shared by everybody in this chat."""
    return ScopeKey(chat.platform, chat.chat_id, "")


GLOBAL_SCOPE = ScopeKey("", "", "")
