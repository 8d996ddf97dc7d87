"""Helpers of the Telegram Midjourney transcripts: inline keyboards, waits, a restart on
the same database (platform-free ones, PNGs too: ``tests/adapters/mj_shared.py``). The
poller runs on a virtual clock (``clock`` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.telegram import TelegramBot
from core.app import ChatCore
from tests.adapters.mj_shared import WHITE, png
from tests.adapters.telegram.conftest import (
    FAST_LIMITS,
    FAST_TIMINGS,
    TelegramWorld,
    make_bot_settings,
    make_settings,
)
from tests.fakes.gateway_mj import FakeMidjourney
from tests.fakes.telegram_models import FakeChat, SentMessage


def labels(message: SentMessage) -> list[list[str]]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [[b["text"] for b in row] for row in rows]


def flat(message: SentMessage) -> list[str]:
    return [label for row in labels(message) for label in row]


def callback(message: SentMessage, text: str) -> str:
    """The callback data of the button labelled ``text`` (exactly)."""
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        for b in row:
            if b["text"] == text:
                data: str = b["callback_data"]
                return data
    raise AssertionError(f"no {text!r} in {labels(message)}")


def photo_with(label: str, count: int = 1) -> Callable[[list[SentMessage]], bool]:
    """``done`` for ``wait_for_messages``: ``count`` photos carry a button ``label``."""
    def done(messages: list[SentMessage]) -> bool:
        return sum(1 for m in messages if m.photo and label in flat(m)) >= count
    return done


def finished_photos(count: int = 1) -> Callable[[list[SentMessage]], bool]:
    """``done``: ``count`` photos show a result (no progress caption any more)."""
    def done(messages: list[SentMessage]) -> bool:
        return sum(1 for m in messages if m.photo and "Drawing" not in m.text) >= count
    return done


def text_with(part: str) -> Callable[[list[SentMessage]], bool]:
    def done(messages: list[SentMessage]) -> bool:
        return any(part in m.text for m in messages)
    return done


def last_with(messages: list[SentMessage], part: str) -> SentMessage:
    return [m for m in messages if part in m.text or part in flat(m)][-1]


async def upscaled(world: TelegramWorld, chat: FakeChat) -> SentMessage:
    """/mj a pig → the grid → U1 → the upscaled photo (with Custom Zoom, Vary Region)."""
    tg = world.tg
    tg.command(chat, 42, "/mj a pig")
    messages = await world.wait_for_messages(chat.id, done=photo_with("U1"))
    grid = next(m for m in messages if m.photo)
    tg.press_button(chat, 42, grid.message_id, callback(grid, "U1"))
    messages = await world.wait_for_messages(chat.id, done=photo_with("🔍 Custom Zoom"))
    return next(m for m in messages if m.photo and "🔍 Custom Zoom" in flat(m))


async def region_picker(world: TelegramWorld, chat: FakeChat) -> SentMessage:
    """… the upscaled photo → Vary (Region) → the square picker."""
    photo = await upscaled(world, chat)
    world.tg.press_button(chat, 42, photo.message_id, callback(photo, "🖌️ Vary (Region)"))
    messages = await world.wait_for_messages(chat.id, done=text_with("tap the squares"))
    return messages[-1]


async def region_prompt(world: TelegramWorld, chat: FakeChat, board: SentMessage
                        ) -> SentMessage:
    """On the square picker ``board``: tap the first square (it turns ✅), then Done →
    the ForceReply request for the prompt."""
    tg = world.tg
    tg.press_button(chat, 42, board.message_id, callback(board, "⬜"))
    await tg.wait_until(lambda: "✅" in flat(board))
    mark = world.last_message_id(chat.id)
    tg.press_button(chat, 42, board.message_id, callback(board, "Done"))
    return await world.wait_for_prompt(chat.id, mark)


async def answered_with_white_mask(world: TelegramWorld, mj: FakeMidjourney, chat: FakeChat,
                                   caption: str, reply_to: int) -> dict[str, Any]:
    """Ann replies to ``reply_to`` with a white photo captioned ``caption`` → a new grid;
    the modal the gateway received."""
    world.tg.user_sends(chat, 42, photo=png(WHITE, (8, 8)), caption=caption,
                        reply_to=reply_to)
    await world.wait_for_messages(chat.id, done=photo_with("U1", count=2))
    [(_, body)] = mj.submits("modal")
    assert body["prompt"] == caption
    return body


async def restart(world: TelegramWorld) -> None:
    """Stop the bot, close the core, start new ones on the same SQLite file."""
    await world.bot.stop()
    await world.core.close()
    world.core = await ChatCore.create(make_settings(world.gateway, world.tg, world.tmp_path))
    world.bot = TelegramBot(world.core, make_bot_settings(world.tg), timings=FAST_TIMINGS,
                            limits=FAST_LIMITS, album_delay=0.2, polling_timeout=1)
    await world.bot.start()
