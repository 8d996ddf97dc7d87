"""The Stop button, active turns, and adapter texts.

Action buttons (the model picker, Continue…) are rendered by ``adapters.telegram.surface``
(``a:<action_id>``); only the Stop button of a streaming turn lives here.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Any, Protocol

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from core.events import TurnEvent, TurnFailed
from core.i18n import register_messages

VENDORS_PER_PAGE = 8
MODELS_PER_PAGE = 8
CALLBACK_DATA_LIMIT = 64

CANCEL_PREFIX = "cx"

TELEGRAM_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "telegram.cancel_button": "⏹ Stop",
        "telegram.stopped": "⏹ Stopped.",
        "telegram.cancel_not_yours": "Only the person who asked (or a chat admin) can stop this.",
        "telegram.turn_over": "This answer has already finished.",
        "telegram.file_too_big": "That file is too big for me to download "
        "(Telegram lets bots fetch at most 20 MB).",
        "telegram.download_failed": "I could not download that file. Please send it again.",
        "telegram.unsupported_file": "I can't read {filename}: send images or text files "
        "(.txt, .md, .py, .json, .csv…).",
        "telegram.continued": "(continued)",
        "telegram.delivery_failed": "⚠️ I could not deliver my answer because of a network "
        "problem. Please ask again.",
    },
    "zh": {
        "telegram.cancel_button": "⏹ 停止",
        "telegram.stopped": "⏹ 已停止。",
        "telegram.cancel_not_yours": "只有提问的人(或群管理员)可以停止这个回答。",
        "telegram.turn_over": "这个回答已经结束了。",
        "telegram.file_too_big": "文件太大,我无法下载"
        "(Telegram 只允许机器人下载 20 MB 以内的文件)。",
        "telegram.download_failed": "文件下载失败,请重新发送。",
        "telegram.unsupported_file": "无法读取 {filename}:请发送图片或文本文件"
        "(.txt、.md、.py、.json、.csv 等)。",
        "telegram.continued": "(续)",
        "telegram.delivery_failed": "⚠️ 网络问题导致回答未能送达,请重新提问。",
    },
}
"""Adapter texts, registered into the core catalog (keys proposed to core/i18n)."""


def register_texts() -> None:
    """Add the ``telegram.*`` texts to the core catalog (idempotent)."""
    for language, messages in TELEGRAM_MESSAGES.items():
        register_messages(language, messages)


class CoreTexts(Protocol):
    """The part of ChatCore the stream presenter needs: localized texts."""

    def t(self, key: str, lang: str, **params: Any) -> str: ...

    def failure_text(self, event: TurnFailed, lang: str) -> str: ...

    def failure_notice(self, event: TurnFailed, lang: str) -> str: ...


def cancel_keyboard(token: str, label: str) -> InlineKeyboardMarkup:
    """The Stop button shown under a streaming answer."""
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=label, callback_data=f"{CANCEL_PREFIX}:{token}")
    ]])


class Ticket(Protocol):
    """A core turn ticket: an async iterator of events that can be cancelled."""

    language: str
    result: TurnEvent | None

    def __aiter__(self) -> Ticket: ...

    async def __anext__(self) -> TurnEvent: ...

    def cancel(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a turn is shown: chat, forum topic, and the user message it answers."""

    chat_id: int
    thread_id: int | None = None
    is_private: bool = True
    reply_to: int | None = None


@dataclass(slots=True)
class ActiveTurn:
    """A turn being shown; found again by its Stop button or by a stopped draft."""

    ticket: Ticket
    requester_id: int
    token: str
    destination: Destination
    draft_id: int = 0


class TurnRegistry:
    """Active turns by cancel token and by (chat, draft id)."""

    def __init__(self) -> None:
        self._by_token: dict[str, ActiveTurn] = {}
        self._counter = itertools.count(1)

    def add(self, ticket: Ticket, requester_id: int, destination: Destination) -> ActiveTurn:
        """Register a turn; its token goes into the Stop button's callback data."""
        token = format(next(self._counter), "x") + format(random.getrandbits(24), "x")
        turn = ActiveTurn(ticket, requester_id, token, destination)
        self._by_token[token] = turn
        return turn

    def by_token(self, token: str) -> ActiveTurn | None:
        """The turn behind a Stop button (None when it already finished)."""
        return self._by_token.get(token)

    def by_draft(self, chat_id: int, draft_id: int) -> ActiveTurn | None:
        """The turn streaming into that draft."""
        for turn in self._by_token.values():
            if turn.draft_id == draft_id and turn.destination.chat_id == chat_id:
                return turn
        return None

    def remove(self, turn: ActiveTurn) -> None:
        """Forget a finished turn."""
        self._by_token.pop(turn.token, None)
