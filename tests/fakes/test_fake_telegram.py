"""Self-tests of the fake Telegram Bot API, driven by the real aiogram Bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    MessageEntity,
)

from tests.fakes.telegram import FakeTelegram, FloodLimits, split_like_client, utf16_len

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x00\x80"
       b"\x08\x02\x00\x00\x00" + b"\x00" * 40)


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake_telegram.url))
    bot = Bot(fake_telegram.token, session=session)
    yield bot
    if session._session is not None:  # skip AiohttpSession.close()'s 0.25 s grace sleep
        await session._session.close()


async def test_get_me(bot: Bot, fake_telegram: FakeTelegram) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (1000, True, "chatbridge_bot")
    assert fake_telegram.calls[-1].method == "getMe"
    assert fake_telegram.calls[-1].status == 200


async def test_wrong_token_and_unknown_method(fake_telegram: FakeTelegram) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake_telegram.url))
    intruder = Bot("999:WRONG", session=session)
    with pytest.raises(TelegramUnauthorizedError):
        await intruder.get_me()
    await session.close()
    async with aiohttp.ClientSession() as http:
        url = f"{fake_telegram.url}/bot{fake_telegram.token}/frobnicate"
        async with http.post(url, data={"a": "1"}) as resp:
            assert resp.status == 404
            assert (await resp.json())["description"] == "Not Found"
    assert [c.status for c in fake_telegram.calls] == [401, 404]


async def test_send_then_edit(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.private_chat(user_id=42)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Stop", callback_data="stop")]])
    sent = await bot.send_message(42, "hello", reply_markup=keyboard)
    assert sent.message_id == 1 and sent.text == "hello"
    edited = await bot.edit_message_text(
        "hello **world**", chat_id=42, message_id=sent.message_id,
        entities=[MessageEntity(type="bold", offset=6, length=9)])
    assert isinstance(edited, Message)
    [msg] = fake_telegram.bot_messages(42)
    assert (msg.text, msg.edits, msg.history) == ("hello **world**", 1, ["hello", msg.text])
    assert msg.entities == [{"type": "bold", "offset": 6, "length": 9}]
    assert msg.reply_markup is None  # editMessageText without markup drops the keyboard
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("hello **world**", chat_id=42, message_id=sent.message_id,
                                    entities=[MessageEntity(type="bold", offset=6, length=9)])
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=42, message_id=99)
    assert await bot.delete_message(42, sent.message_id)
    assert fake_telegram.bot_messages(42) == []
    calls = fake_telegram.calls_of("editMessageText")
    assert [c.status for c in calls] == [200, 400, 400]
    assert all(fake_telegram.token.encode() not in c.raw for c in fake_telegram.calls)


async def test_length_and_entity_rules(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.private_chat(user_id=42)
    emoji = "😀" * 2048  # 4096 UTF-16 units exactly
    assert utf16_len(emoji) == 4096
    await bot.send_message(42, emoji)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(42, emoji + "x")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(42, "😀ab", entities=[MessageEntity(type="bold", offset=2,
                                                                   length=3)])
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(7, "who?")
    assert len(fake_telegram.bot_messages(42)) == 1


async def test_flood_control_raises_retry_after(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.private_chat(user_id=42)
    fake_telegram.limits = FloodLimits(chat_per_second=0.5, chat_burst=2)
    await bot.send_message(42, "1")
    await bot.send_message(42, "2")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(42, "3")
    assert caught.value.retry_after == 2 and isinstance(caught.value.retry_after, int)
    assert fake_telegram.flood_errors == 1
    # inside the 2 s window every method is refused, and the wait doubles (invented rule)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message_draft(42, draft_id=5, text="too early")
    assert caught.value.retry_after == 4
    assert fake_telegram.calls_inside_retry_window == {42: 1}
    fake_telegram.limits = FloodLimits()  # new limits: windows and counters start over
    assert fake_telegram.calls_inside_retry_window == {}
    for n in range(10):  # drafts are lenient by default (10/s burst)
        await bot.send_message_draft(42, draft_id=5, text="d" * (n + 1))
    assert len(fake_telegram.drafts(42)) == 10
    fake_telegram.limits = FloodLimits(enabled=False)
    for n in range(10):
        await bot.send_message(42, str(n))


async def test_polling_roundtrip_callback_and_commands(
    bot: Bot, fake_telegram: FakeTelegram
) -> None:
    chat = fake_telegram.private_chat(user_id=42, language_code="de")
    group = fake_telegram.group_chat(chat_id=-100123, title="G", is_forum=True, admins={7})
    topic = fake_telegram.create_topic(group, "talk")
    dp = Dispatcher()
    seen: list[Message] = []

    @dp.message()
    async def echo(message: Message) -> None:
        seen.append(message)
        await message.answer(f"echo: {message.text}")

    @dp.callback_query()
    async def pressed(query: object) -> None:
        await bot.answer_callback_query(query.id, text="ok")  # type: ignore[attr-defined]

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False,
                                                   close_bot_session=False))
    try:
        first = fake_telegram.user_sends(chat, 42, "hi")
        await fake_telegram.wait_until(lambda: fake_telegram.bot_messages(42))
        assert fake_telegram.bot_messages(42)[0].text == "echo: hi"
        fake_telegram.user_sends(chat, 42, "again", reply_to=first["message_id"])
        fake_telegram.user_sends(group, 7, "in topic", thread_id=topic)
        await fake_telegram.wait_until(lambda: fake_telegram.bot_messages(group, topic))
        assert seen[1].reply_to_message and seen[1].reply_to_message.text == "hi"
        assert seen[0].from_user and seen[0].from_user.language_code == "de"
        assert fake_telegram.bot_messages(group)[0].thread_id == topic
        await bot.edit_message_reply_markup(
            chat_id=42, message_id=fake_telegram.bot_messages(42)[0].message_id,
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="a")]]))
        fake_telegram.press_button(chat, 42, fake_telegram.bot_messages(42)[0].message_id, "a")
        await fake_telegram.wait_until(lambda: fake_telegram.answered_callbacks)
    finally:
        await dp.stop_polling()
        await polling
    assert "callback_query" in (fake_telegram.allowed_updates or [])
    admins = await bot.get_chat_administrators(group.id)
    assert [m.status for m in admins] == ["administrator"]
    assert (await bot.get_chat_member(group.id, 8)).status == "member"
    await bot.set_my_commands([BotCommand(command="model", description="Modell")],
                              language_code="de")
    await bot.set_my_commands([BotCommand(command="help", description="Help")],
                              scope=BotCommandScopeAllGroupChats())
    assert fake_telegram.my_commands[("default", "de")][0]["command"] == "model"
    assert fake_telegram.my_commands[("all_group_chats", None)][0]["command"] == "help"


async def test_photo_download_and_too_big(bot: Bot, fake_telegram: FakeTelegram) -> None:
    chat = fake_telegram.private_chat(user_id=42)
    msg = fake_telegram.user_sends(chat, 42, photo=PNG, caption="look")
    largest = msg["photo"][-1]
    assert (largest["width"], largest["height"]) == (256, 128)
    data = await bot.download(largest["file_id"])
    assert data is not None and data.read() == PNG
    assert fake_telegram.file_downloads == [fake_telegram.files[largest["file_id"]].file_path]
    big = fake_telegram.user_sends(chat, 42, document=("a.pdf", b"%PDF", "application/pdf"),
                                   file_size=25 * 1024 * 1024)
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(big["document"]["file_id"])
    sent = await bot.send_photo(42, BufferedInputFile(PNG, "p.png"), caption="c" * 1024)
    assert sent.photo and fake_telegram.bot_messages(42)[0].photo
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_document(42, BufferedInputFile(b"x", "x.txt"), caption="c" * 1025)
    [(filename, uploaded)] = fake_telegram.calls_of("sendPhoto")[0].files.values()
    assert (filename, uploaded) == ("p.png", PNG)


async def test_paste_split_and_wait_until_dump(fake_telegram: FakeTelegram) -> None:
    chat = fake_telegram.private_chat(user_id=42)
    text = ("word " * 1000 + "\n") * 3
    parts = fake_telegram.user_pastes(chat, 42, text)
    assert len(parts) > 1 and all(utf16_len(p["text"]) <= 4096 for p in parts)
    assert [p["message_id"] for p in parts] == list(range(1, len(parts) + 1))
    assert split_like_client("x" * 5000) == ["x" * 4096, "x" * 904]
    with pytest.raises(AssertionError, match="transcript"):
        await fake_telegram.wait_until(lambda: False, timeout=0.05)


async def test_unsupported_method_via_aiogram(bot: Bot, fake_telegram: FakeTelegram) -> None:
    with pytest.raises(TelegramNotFound):
        await bot.get_star_transactions()
    assert fake_telegram.calls[-1].status == 404


async def test_html_parse_mode(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.private_chat(user_id=42)
    await bot.send_message(42, "<b>bold</b> &amp; <a href='https://x.y'>link</a>",
                           parse_mode="HTML")
    [msg] = fake_telegram.bot_messages(42)
    assert msg.text == "bold & link"
    assert msg.entities == [{"type": "bold", "offset": 0, "length": 4},
                            {"type": "text_link", "offset": 7, "length": 4,
                             "url": "https://x.y"}]
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(42, "<b>open", parse_mode="HTML")


async def test_misc_methods_validate_in_aiogram(bot: Bot, fake_telegram: FakeTelegram) -> None:
    chat = fake_telegram.private_chat(user_id=42)
    group = fake_telegram.group_chat(chat_id=-1005, owner=1, admins={2}, bot_is_admin=True)
    user_msg = fake_telegram.user_sends(chat, 42, "hi")
    assert (await bot.get_chat(42)).id == 42
    assert await bot.send_chat_action(42, "typing")
    assert await bot.set_message_reaction(42, user_msg["message_id"])
    assert [m.status for m in await bot.get_chat_administrators(group.id)] == [
        "creator", "administrator", "administrator"]
    await bot.set_my_commands([BotCommand(command="new", description="New chat")])
    assert [c.command for c in await bot.get_my_commands()] == ["new"]
    assert await bot.delete_my_commands()
    assert ("default", "") not in fake_telegram.my_commands
    assert await bot.set_webhook("https://example.invalid/hook")
    with pytest.raises(TelegramConflictError):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == []
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=42, message_id=user_msg["message_id"])
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(42, "k", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[
            InlineKeyboardButton(text="t", callback_data="x" * 65)]]))


async def test_caption_and_media_edits_count_against_the_flood_limits(
        bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.private_chat(user_id=42)
    fake_telegram.limits = FloodLimits(chat_per_second=0.5, chat_burst=3)
    photo = await bot.send_photo(42, BufferedInputFile(PNG, "p.png"), caption="0 %")
    await bot.edit_message_caption(chat_id=42, message_id=photo.message_id, caption="50 %")
    await bot.edit_message_media(InputMediaPhoto(media=BufferedInputFile(PNG, "q.png"),
                                                 caption="90 %"),
                                 chat_id=42, message_id=photo.message_id)
    with pytest.raises(TelegramRetryAfter):  # the 4th message-producing call in a burst of 3
        await bot.edit_message_caption(chat_id=42, message_id=photo.message_id,
                                       caption="100 %")
    assert fake_telegram.flood_errors == 1
    fake_telegram.limits = FloodLimits(chat_per_second=0.5, chat_burst=1,
                                       limited_methods=frozenset({"sendPhoto"}))
    for n in range(3):  # configurable: edits left out of the limited methods go freely
        await bot.edit_message_caption(chat_id=42, message_id=photo.message_id,
                                       caption=f"{n} done")
