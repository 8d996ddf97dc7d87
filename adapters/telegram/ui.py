"""Inline keyboards (model picker paged by vendor, Cancel button) and adapter texts.

Callback data is at most 64 bytes: buttons carry short hashes of vendor/model names
(looked up again in the current ``ModelMenu`` when tapped), never the names themselves.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.telegram.render import Rendered
from core.commands.replies import ModelMenu, VendorGroup
from core.events import TurnEvent, TurnFailed
from core.i18n import register_messages

VENDORS_PER_PAGE = 8
MODELS_PER_PAGE = 8
CALLBACK_DATA_LIMIT = 64

PICKER_PREFIX = "mp"
CANCEL_PREFIX = "cx"
CONTINUE_PREFIX = "ct"
"""Callback data ``ct:<requester user id>`` of the Continue button under a length-capped
answer (``TurnFinal.truncated``)."""

TELEGRAM_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "telegram.cancel_button": "⏹ Stop",
        "telegram.stopped": "⏹ Stopped.",
        "telegram.cancel_not_yours": "Only the person who asked (or a chat admin) can stop this.",
        "telegram.turn_over": "This answer has already finished.",
        "telegram.picker_vendors": "Pick a vendor (current model: {model}, set {scope}):",
        "telegram.picker_models": "{vendor} models (current: {model}):",
        "telegram.picker_expired": "This menu is out of date; send /model again.",
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
        "telegram.picker_vendors": "选择厂商(当前模型:{model},{scope}):",
        "telegram.picker_models": "{vendor} 的模型(当前:{model}):",
        "telegram.picker_expired": "这个菜单已过期,请重新发送 /model。",
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


def short_hash(name: str) -> str:
    """A stable 10-hex-digit token for a vendor or model name."""
    return hashlib.blake2s(name.encode(), digest_size=5).hexdigest()


@dataclass(frozen=True, slots=True)
class PickerAction:
    """A decoded picker button: ``vendors`` page, a ``vendor``'s models page, or ``pick``."""

    kind: str
    page: int = 0
    vendor: VendorGroup | None = None
    model: str = ""


def vendors_keyboard(menu: ModelMenu, page: int = 0) -> InlineKeyboardMarkup:
    """Vendors, two per row, paged; the current model's vendor is marked with ✓."""
    groups = menu.groups
    pages = max(1, -(-len(groups) // VENDORS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = groups[page * VENDORS_PER_PAGE:(page + 1) * VENDORS_PER_PAGE]
    rows: list[list[InlineKeyboardButton]] = []
    for index in range(0, len(shown), 2):
        rows.append([
            InlineKeyboardButton(
                text=("✓ " if menu.current in group.models else "") + group.vendor,
                callback_data=f"{PICKER_PREFIX}:v:{short_hash(group.vendor)}:0",
            )
            for group in shown[index:index + 2]
        ])
    navigation = _page_buttons(page, pages, lambda target: f"{PICKER_PREFIX}:p:{target}")
    if navigation:
        rows.append(navigation)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def models_keyboard(menu: ModelMenu, group: VendorGroup, page: int = 0) -> InlineKeyboardMarkup:
    """One vendor's models, one per row, paged, ✓ on the current one, and a back button."""
    pages = max(1, -(-len(group.models) // MODELS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = group.models[page * MODELS_PER_PAGE:(page + 1) * MODELS_PER_PAGE]
    rows = [
        [InlineKeyboardButton(
            text=("✓ " if model == menu.current else "") + model,
            callback_data=f"{PICKER_PREFIX}:m:{short_hash(model)}",
        )]
        for model in shown
    ]
    vendor_token = short_hash(group.vendor)
    navigation = [InlineKeyboardButton(text="« ⋯", callback_data=f"{PICKER_PREFIX}:p:0")]
    navigation += _page_buttons(
        page, pages, lambda target: f"{PICKER_PREFIX}:v:{vendor_token}:{target}"
    )
    rows.append(navigation)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _page_buttons(
    page: int, pages: int, data: Callable[[int], str]
) -> list[InlineKeyboardButton]:
    buttons: list[InlineKeyboardButton] = []
    if page > 0:
        buttons.append(InlineKeyboardButton(text="‹", callback_data=data(page - 1)))
    if pages > 1:
        buttons.append(InlineKeyboardButton(text=f"{page + 1}/{pages}",
                                            callback_data=data(page)))
    if page + 1 < pages:
        buttons.append(InlineKeyboardButton(text="›", callback_data=data(page + 1)))
    return buttons


def decode_picker(data: str, menu: ModelMenu) -> PickerAction | None:
    """Decode picker callback data against the current menu (None when stale/unknown)."""
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != PICKER_PREFIX:
        return None
    kind = parts[1]
    if kind == "p" and parts[2].isdigit():
        return PickerAction("vendors", page=int(parts[2]))
    if kind == "v" and len(parts) == 4 and parts[3].isdigit():
        for group in menu.groups:
            if short_hash(group.vendor) == parts[2]:
                return PickerAction("vendor", page=int(parts[3]), vendor=group)
        return None
    if kind == "m":
        for group in menu.groups:
            for model in group.models:
                if short_hash(model) == parts[2]:
                    return PickerAction("pick", vendor=group, model=model)
    return None


def cancel_keyboard(token: str, label: str) -> InlineKeyboardMarkup:
    """The Stop button shown under a streaming answer."""
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=label, callback_data=f"{CANCEL_PREFIX}:{token}")
    ]])


def continue_keyboard(requester_id: int, label: str) -> InlineKeyboardMarkup:
    """The Continue button under an answer that hit the output limit."""
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=label, callback_data=f"{CONTINUE_PREFIX}:{requester_id}")
    ]])


def continue_offer(t: Callable[..., str], lang: str, turn: ActiveTurn) -> dict[str, Any]:
    """Keyword arguments of ``StreamPresenter._send`` for the note + Continue button sent
    after a length-capped answer (``TurnFinal.truncated``)."""
    button = continue_keyboard(turn.requester_id, t("turn.continue_button", lang))
    return {"content": Rendered(t("turn.length_note", lang)), "keyboard": button,
            "reply": False}


def continue_requester(data: str) -> int | None:
    """The user id in a Continue button's callback data (None if malformed)."""
    prefix, _, rest = data.partition(":")
    return int(rest) if prefix == CONTINUE_PREFIX and rest.lstrip("-").isdigit() else None


class Ticket(Protocol):
    """A core turn ticket: an async iterator of events that can be cancelled."""

    language: str

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
