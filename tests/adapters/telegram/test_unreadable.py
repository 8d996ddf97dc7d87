"""Messages the bot cannot read (stickers, voice, locations…) get one short notice."""

from __future__ import annotations

from typing import Any

import pytest

from tests.adapters.telegram.conftest import TelegramWorld

FILE = {"file_id": "F1", "file_unique_id": "U1"}
UNREADABLE: dict[str, dict[str, Any]] = {
    "sticker": {"sticker": {**FILE, "type": "regular", "width": 512, "height": 512,
                            "is_animated": False, "is_video": False}},
    "location": {"location": {"latitude": 31.23, "longitude": 121.47}},
    "contact": {"contact": {"phone_number": "+100", "first_name": "Bo"}},
    "poll": {"poll": {"id": "p1", "question": "tea?", "options": [
        {"persistent_id": "a", "text": "yes", "voter_count": 0},
        {"persistent_id": "b", "text": "no", "voter_count": 0}],
        "total_voter_count": 0, "is_closed": False, "is_anonymous": True,
        "type": "regular", "allows_multiple_answers": False, "allows_revoting": False,
        "members_only": False}},
    "video_note": {"video_note": {**FILE, "length": 240, "duration": 3}},
    "voice": {"voice": {**FILE, "duration": 2}},
    "audio": {"audio": {**FILE, "duration": 200}},
}


@pytest.mark.parametrize("kind", sorted(UNREADABLE))
async def test_an_unreadable_message_in_private_gets_one_notice_and_no_gateway_call(
        world: TelegramWorld, kind: str) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    tg.user_sends(ann, 42, content=UNREADABLE[kind])
    tg.user_sends(ann, 42, "probe")  # barrier: answered after the notice

    notice = world.core.t("error.unsupported_message", "en")
    messages = await world.wait_for_messages(
        ann.id, 2, done=lambda ms: any("echo: probe" in m.text and not m.reply_markup
                                       for m in ms))
    assert [m.text for m in messages] == [notice, "echo: probe"]
    assert [r["messages"][-1]["content"] for r in world.gateway.chat_requests()] == ["probe"]


async def test_the_notice_is_in_the_users_language(world: TelegramWorld) -> None:
    tg = world.tg
    li = tg.private_chat(43, language_code="zh")
    tg.user_sends(li, 43, content=UNREADABLE["voice"])
    [message] = await world.wait_for_messages(li.id, 1)
    assert message.text == world.core.t("error.unsupported_message", "zh")
    assert "文字" in message.text and not world.gateway.chat_requests()


@pytest.mark.parametrize("filename", ["backup.zip", "setup.exe"])
async def test_an_unsupported_document_gets_a_notice_and_no_gateway_call(
        world: TelegramWorld, filename: str) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    tg.user_sends(ann, 42, document=(filename, b"PK\x03\x04binary", "application/zip"))
    tg.user_sends(ann, 42, "probe")
    messages = await world.wait_final(ann.id, "echo: probe")
    assert filename in messages[0].text
    assert [r["messages"][-1]["content"] for r in world.gateway.chat_requests()] == ["probe"]


async def test_in_groups_only_an_addressed_unreadable_message_gets_the_notice(
        world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(-100321, admins={7})
    tg.command(group, 7, "/mode reply:all")
    await world.wait_for_messages(group.id, 1)
    tg.user_sends(group, 8, content=UNREADABLE["sticker"])  # not for the bot, even in "all"
    tg.user_sends(group, 8, "probe one")
    await world.wait_final(group.id, "echo: probe one")
    mention, entities = tg.mention_text("listen")
    tg.user_sends(group, 8, content=UNREADABLE["voice"], caption=mention,
                  caption_entities=entities)
    tg.user_sends(group, 8, "probe two")
    messages = await world.wait_final(group.id, "echo: probe two")
    notice = world.core.t("error.unsupported_message", "en")
    assert [m.text for m in messages][1:] == ["echo: probe one", notice, "echo: probe two"]
    assert len(world.gateway.chat_requests()) == 2
