"""Parts shown natively on Telegram: a tool's image with a button that still works after a
restart, albums (buttons on a separate message), a big image as a document, progress
replaced in place by its result, unknown buttons, and the model picker via buttons."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from adapters.telegram import TelegramBot
from core.actions import ActionContext, ActionOutcome
from core.app import ChatCore
from core.commands.replies import CommandReply
from core.conversation.keys import ChatRef
from core.conversation.tickets import TurnTicket
from core.events import PartShown, PartUpdated, TurnFinal
from core.outbox import Delivery
from core.parts import Action, Media, MediaPart, PartUpdate, Progress, ProgressPart
from core.tools import Tool, ToolResult
from tests.adapters.telegram.conftest import (
    FAST_LIMITS,
    FAST_TIMINGS,
    TelegramWorld,
    make_bot_settings,
    make_settings,
)
from tests.fakes.gateway_replies import Text, ToolCalls
from tests.fakes.telegram_models import SentMessage

MB = 1024 * 1024


def png(color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(out, format="PNG")
    return out.getvalue()


def keyboard(message: SentMessage) -> dict[str, str]:
    """Inline buttons of a message: label → callback data."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b.get("callback_data") or b.get("url", "") for row in rows for b in row}


def private(chat_id: int) -> ChatRef:
    return ChatRef("telegram", str(chat_id), "", True)


def register_again(core: ChatCore, presses: list[dict[str, Any]]) -> None:
    """Action kind ``test.again``: records the press, answers with a notice and a reply."""
    async def again(ctx: ActionContext) -> ActionOutcome:
        presses.append({"payload": ctx.payload, "by": ctx.actor.user_id})
        return ActionOutcome(notice="Drawing again…", reply=CommandReply("Here is another."))

    core.actions.register("test.again", again)


def register_draw(world: TelegramWorld, chat: ChatRef, images: list[Media]) -> None:
    """Tool ``draw``: returns ``images`` with one "Again" button (kind ``test.again``)."""
    async def draw(args: dict[str, Any]) -> ToolResult:
        action_id = await world.core.actions.create("test.again", {"shape": "square"},
                                                    chat=chat, owner_id="42")
        return ToolResult("drew it", media=tuple(images),
                          actions=((Action(action_id, "Again", icon="🔁"),),))

    world.core.tools.register(Tool("draw", "Draw a picture", {"type": "object"}, draw))


async def restart(world: TelegramWorld) -> None:
    """Stop the bot, close the core, start new ones on the same SQLite file."""
    await world.bot.stop()
    await world.core.close()
    settings = make_settings(world.gateway, world.tg, world.tmp_path)
    world.core = await ChatCore.create(settings)
    world.bot = TelegramBot(world.core, make_bot_settings(world.tg), timings=FAST_TIMINGS,
                            limits=FAST_LIMITS, album_delay=0.2, polling_timeout=1)
    await world.bot.start()


async def test_a_tool_image_arrives_as_a_photo_whose_button_works_after_a_restart(
        world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    presses: list[dict[str, Any]] = []
    register_again(world.core, presses)
    register_draw(world, private(ann.id), [Media("image", data=png(), mime="image/png",
                                                 caption="a square")])
    world.gateway.script(ToolCalls([("draw", "{}")]), Text("Here it is."))

    tg.user_sends(ann, 42, "draw a square")

    await world.wait_final(ann.id, "Here it is.")
    photo, answer = tg.bot_messages(ann)
    assert photo.photo and photo.text == "a square" and answer.text == "Here it is."
    [(label, data)] = keyboard(photo).items()
    assert label == "🔁 Again" and data.startswith("a:")
    [upload] = tg.calls_of("sendPhoto")
    assert upload.files  # bytes uploaded, never a URL

    await restart(world)
    register_again(world.core, presses)  # kinds are registered at start, as a bot would
    tg.press_button(ann, 42, photo.message_id, data)

    await world.wait_final(ann.id, "Here is another.")
    assert presses == [{"payload": {"shape": "square"}, "by": "42"}]
    # answered at once, before the work; its acknowledgement next to the reply is not
    # repeated in the chat
    assert "text" not in tg.answered_callbacks[-1]
    assert [m.text for m in tg.bot_messages(ann)][-1] == "Here is another."
    assert "Drawing again…" not in [m.text for m in tg.bot_messages(ann)]


async def test_an_album_carries_no_keyboard_so_the_buttons_follow_it(world: TelegramWorld
                                                                    ) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    register_again(world.core, [])
    register_draw(world, private(ann.id), [
        Media("image", data=png((200, 0, 0)), mime="image/png", caption="red"),
        Media("image", data=png((0, 200, 0)), mime="image/png", caption="green")])
    world.gateway.script(ToolCalls([("draw", "{}")]), Text("Two of them."))

    tg.user_sends(ann, 42, "draw two")

    await world.wait_final(ann.id, "Two of them.")
    red, green, options, answer = tg.bot_messages(ann)
    assert red.photo and green.photo and not red.reply_markup and not green.reply_markup
    assert red.text == "red\ngreen"  # the album's caption sits on its first item
    assert options.text == "⬆️ Options for the pictures above:"
    assert list(keyboard(options)) == ["🔁 Again"]
    assert answer.text == "Two of them."
    [album] = tg.calls_of("sendMediaGroup")
    assert len(album.params["media"]) == 2


async def test_an_image_over_10_mb_is_sent_as_a_document(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    big = Media("image", data=png() + bytes(10 * MB), mime="image/png", caption="huge")
    register_again(world.core, [])
    register_draw(world, private(ann.id), [big])
    world.gateway.script(ToolCalls([("draw", "{}")]), Text("A big one."))

    tg.user_sends(ann, 42, "draw big")

    await world.wait_final(ann.id, "A big one.", timeout=10)
    document, _ = tg.bot_messages(ann)
    assert document.document == "image.png" and not document.photo
    assert list(keyboard(document)) == ["🔁 Again"]
    assert not tg.calls_of("sendPhoto")


async def test_progress_is_updated_in_place_then_replaced_by_the_result(
        world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    job = TurnTicket("en", lambda _ticket: None)
    running = Progress("tool.running", {"name": "paint"}, percent=10)
    job.emit(PartShown(ProgressPart(running, ref="job")))
    await world.core.outbox.send(Delivery(private(ann.id), job))  # resumed work

    [status] = await world.wait_for_messages(ann.id, 1)
    assert status.text == "🔧 paint… 10%"
    preview = Media("image", data=png((90, 90, 90)), mime="image/png")
    job.emit(PartUpdated(PartUpdate("job", ProgressPart(
        Progress("tool.running", {"name": "paint"}, percent=60, preview=preview)))))
    # a text message cannot become a photo on Telegram: delete + send
    [shown] = await world.wait_for_messages(ann.id, 1, done=lambda m: m[0].photo)
    assert shown.text == "🔧 paint… 60%" and (ann.id, status.message_id) in tg.deleted

    action_id = await world.core.actions.create("test.again", {}, chat=private(ann.id),
                                                owner_id="42")
    job.emit(PartUpdated(PartUpdate("job", MediaPart(
        (Media("image", data=png((0, 0, 250)), mime="image/png", caption="done"),),
        actions=((Action(action_id, "Again"),),)))))
    job.emit(TurnFinal("job-1", "", ""))

    await tg.wait_until(lambda: shown.text == "done")
    assert [m.message_id for m in tg.bot_messages(ann)] == [shown.message_id]  # in place
    assert keyboard(shown) == {"Again": f"a:{action_id}"}
    assert len(tg.calls_of("editMessageMedia")) == 1


async def test_an_unknown_button_answers_with_a_polite_alert(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    tg.user_sends(ann, 42, "hi")
    [answer] = await world.wait_final(ann.id, "echo: hi")

    tg.press_button(ann, 42, answer.message_id, "a:doesnotexist", check=False)

    refusal = await tg.wait_until(lambda: tg.answered_callbacks and tg.answered_callbacks[-1])
    assert refusal["text"] == "This button is no longer available."
    assert refusal["show_alert"] is True


async def test_someone_elses_button_is_refused_with_an_alert(world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(-100555)
    presses: list[dict[str, Any]] = []
    register_again(world.core, presses)
    chat = ChatRef("telegram", str(group.id), "", False)
    action_id = await world.core.actions.create("test.again", {}, chat=chat, owner_id="7")
    tg.user_sends(group, 7, "/help")
    [helped] = await world.wait_for_messages(group.id, 1)

    tg.press_button(group, 8, helped.message_id, f"a:{action_id}", check=False)

    refusal = await tg.wait_until(lambda: tg.answered_callbacks and tg.answered_callbacks[-1])
    assert refusal["text"] == "Only the person who asked can use this button."
    assert refusal["show_alert"] is True and presses == []


async def test_the_model_picker_is_a_reply_with_buttons(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    tg.command(ann, 42, "/model")
    picker = await world.first_with_buttons(ann.id)
    vendors = keyboard(picker)
    assert all(data.startswith("a:") for data in vendors.values())

    tg.press_button(ann, 42, picker.message_id, vendors["✓ OpenAI"])

    await tg.wait_until(lambda: "✓ gpt-3.5-turbo" in keyboard(picker))
    assert picker.text.startswith("OpenAI models (page 1/")  # Markdown bold → an entity
    assert len(tg.bot_messages(ann)) == 1  # replaced in place, nothing new posted


async def test_a_job_started_by_a_button_is_shown_after_the_reply(world: TelegramWorld
                                                                  ) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    job = TurnTicket("en", lambda _ticket: None)

    async def paint(ctx: ActionContext) -> ActionOutcome:
        job.emit(PartShown(ProgressPart(Progress("tool.running", {"name": "paint"}),
                                        ref="job")))
        job.emit(PartUpdated(PartUpdate("job", MediaPart(
            (Media("image", data=png(), mime="image/png", caption="painted"),)))))
        job.emit(TurnFinal("job-2", "", ""))
        return ActionOutcome(reply=CommandReply("Painting…", ticket=job))

    world.core.actions.register("test.paint", paint)
    action_id = await world.core.actions.create("test.paint", {}, chat=private(ann.id),
                                                owner_id="42")
    tg.user_sends(ann, 42, "hi")
    [answer] = await world.wait_final(ann.id, "echo: hi")

    tg.press_button(ann, 42, answer.message_id, f"a:{action_id}", check=False)

    # the progress message is replaced send-before-delete: wait for the delete too
    expected = [("echo: hi", False), ("Painting…", False), ("painted", True)]

    def shown() -> list[tuple[str, bool]]:
        return [(m.text, bool(m.photo)) for m in tg.bot_messages(ann)]

    await tg.wait_until(lambda: shown() == expected, message=f"shown == {expected}")
    assert shown() == expected


async def test_audio_and_voice_use_their_own_methods(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    register_again(world.core, [])
    register_draw(world, private(ann.id), [
        Media("audio", data=b"ID3 song", mime="audio/mpeg", filename="song.mp3"),
        Media("voice", data=b"OggS note", mime="audio/ogg", filename="note.ogg")])
    world.gateway.script(ToolCalls([("draw", "{}")]), Text("Listen."))

    tg.user_sends(ann, 42, "sing")

    await world.wait_final(ann.id, "Listen.")
    song, note, _ = tg.bot_messages(ann)
    assert (song.document, note.document) == ("song.mp3", "note.ogg")
    assert len(tg.calls_of("sendAudio")) == 1 and len(tg.calls_of("sendVoice")) == 1
    assert not song.reply_markup and list(keyboard(note)) == ["🔁 Again"]  # on the last
