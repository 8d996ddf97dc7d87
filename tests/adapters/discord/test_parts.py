"""Parts shown natively on Discord: a tool's image as an attachment with a button that
still works after a restart, progress edited in place then replaced by its result,
unknown and someone else's buttons (ephemeral answers), and the model picker."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from PIL import Image

from core.actions import ActionContext, ActionOutcome
from core.app import ChatCore
from core.commands.replies import CommandReply
from core.conversation.keys import ChatRef
from core.conversation.tickets import TurnTicket
from core.events import PartShown, PartUpdated, TurnFinal
from core.outbox import Delivery
from core.parts import Action, ActionsPart, Media, MediaPart, PartUpdate, Progress, ProgressPart
from core.tools import Tool, ToolResult
from tests.adapters.discord.conftest import USER, DiscordWorld, make_settings, start_bot
from tests.fakes.discord import FakeMessage
from tests.fakes.gateway_replies import Text, ToolCalls

OTHER = 777


def png(color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(out, format="PNG")
    return out.getvalue()


def buttons(message: FakeMessage) -> dict[str, str]:
    """emoji + label → custom_id of every button of a message."""
    return {f"{(b.get('emoji') or {}).get('name', '')} {b.get('label', '')}".strip():
            b.get("custom_id") or b.get("url", "")
            for row in message.components for b in row["components"]}


def register_again(core: ChatCore, presses: list[dict[str, Any]]) -> None:
    """Action kind ``test.again``: records the press, answers with a notice and a reply."""
    async def again(ctx: ActionContext) -> ActionOutcome:
        presses.append({"payload": ctx.payload, "by": ctx.actor.user_id})
        return ActionOutcome(notice="Drawing again…", reply=CommandReply("Here is another."))

    core.actions.register("test.again", again)


async def restart(world: DiscordWorld) -> None:
    """Stop the bot, close the core, start new ones on the same SQLite file."""
    await world.bot.stop()
    await world.core.close()
    world.core = await ChatCore.create(make_settings(world.gateway, world.dc, world.tmp_path))
    world.bot = await start_bot(world.core, world.settings)


async def test_a_tool_image_arrives_as_an_attachment_whose_button_works_after_a_restart(
        world: DiscordWorld) -> None:
    dm = world.dc.dm_channel_id(USER)
    chat = ChatRef("discord", str(dm), "", True)
    presses: list[dict[str, Any]] = []
    register_again(world.core, presses)
    data = png()

    async def draw(args: dict[str, Any]) -> ToolResult:
        action_id = await world.core.actions.create("test.again", {"shape": "square"},
                                                    chat=chat, owner_id=str(USER))
        return ToolResult("drew it", media=(Media("image", data=data, mime="image/png",
                                                  caption="a square"),),
                          actions=((Action(action_id, "Again", icon="🔁"),),))

    world.core.tools.register(Tool("draw", "Draw a picture", {"type": "object"}, draw))
    world.gateway.script(ToolCalls([("draw", "{}")]), Text("Here it is."))

    await world.dc.user_sends(dm, USER, "draw a square")

    await world.dc.wait_until(lambda: any(m.content == "Here it is."
                                          for m in world.bot_messages(dm)))
    answer, picture = world.bot_messages(dm)  # the answer first showed the tool's status
    assert picture.content == "a square" and picture.file_bytes("image1.png") == data
    assert answer.content == "Here it is."
    [(label, custom_id)] = buttons(picture).items()
    assert label == "🔁 Again" and custom_id.startswith("cb:a:")

    await restart(world)
    register_again(world.core, presses)
    press = await world.dc.click(picture.id, custom_id, user_id=USER)

    assert await world.wait_ephemeral(press) == "Drawing again…"
    await world.dc.wait_until(lambda: any(m.content == "Here is another."
                                          for m in world.bot_messages(dm)))
    assert presses == [{"payload": {"shape": "square"}, "by": str(USER)}]
    assert press.responses[0].type == 6  # deferred at once (3 s rule)


async def test_progress_is_edited_in_place_then_replaced_by_the_result(world: DiscordWorld
                                                                       ) -> None:
    channel = world.channel
    chat = ChatRef("discord", str(channel), "", False)
    job = TurnTicket("en", lambda _ticket: None)
    job.emit(PartShown(ProgressPart(Progress("tool.running", {"name": "paint"}, percent=10),
                                    ref="job")))
    task = asyncio.create_task(world.core.outbox.send(Delivery(chat, job)))  # resumed work
    [status] = await world.dc.wait_until(lambda: world.bot_messages(channel) or None)
    assert status.content == "🔧 paint… 10%"
    preview = png((90, 90, 90))
    job.emit(PartUpdated(PartUpdate("job", ProgressPart(Progress(
        "tool.running", {"name": "paint"}, percent=60,
        preview=Media("image", data=preview, mime="image/png"))))))
    await world.dc.wait_until(lambda: status.content == "🔧 paint… 60%")
    assert status.file_bytes("image1.png") == preview  # the preview became an attachment

    result = png((0, 0, 250))
    action_id = await world.core.actions.create("test.again", {}, chat=chat,
                                                owner_id=str(USER))
    job.emit(PartUpdated(PartUpdate("job", MediaPart(
        (Media("image", data=result, mime="image/png", caption="done"),),
        actions=((Action(action_id, "Again"),),)))))
    job.emit(TurnFinal("job-1", "", ""))
    await asyncio.wait_for(task, 5.0)

    assert [m.id for m in world.bot_messages(channel)] == [status.id]  # one message
    assert status.content == "done" and status.file_bytes("image1.png") == result
    assert buttons(status) == {"Again": f"cb:a:{action_id}"}


async def test_unknown_and_someone_elses_buttons_answer_ephemerally(world: DiscordWorld
                                                                    ) -> None:
    channel = world.channel
    presses: list[dict[str, Any]] = []
    register_again(world.core, presses)
    chat = ChatRef("discord", str(channel), "", False)
    action_id = await world.core.actions.create("test.again", {}, chat=chat,
                                                owner_id=str(USER))
    world.dc.add_member(OTHER, "bob")
    offer = TurnTicket("en", lambda _ticket: None)
    offer.emit(PartShown(ActionsPart("Choose:", ((Action(action_id, "Mine"),
                                                  Action("doesnotexist", "Gone")),))))
    offer.emit(TurnFinal("offer-1", "", ""))
    await world.core.outbox.send(Delivery(chat, offer))
    [message] = world.bot_messages(channel)
    assert message.content == "Choose:" and list(buttons(message)) == ["Mine", "Gone"]

    stranger = await world.dc.click(message.id, f"cb:a:{action_id}", user_id=OTHER)
    unknown = await world.dc.click(message.id, "cb:a:doesnotexist", user_id=USER)

    assert await world.wait_ephemeral(stranger) == (
        "Only the person who asked can use this button.")
    assert await world.wait_ephemeral(unknown) == "This button is no longer available."
    assert presses == []


async def test_the_model_picker_is_a_reply_with_buttons(world: DiscordWorld) -> None:
    inter = await world.dc.slash("model", {}, user_id=USER)
    await world.wait_original(inter, lambda text: "Pick a vendor" in text)
    picker = inter.original
    assert picker is not None and picker.ephemeral
    vendors = buttons(picker)
    assert all(custom_id.startswith("cb:a:") for custom_id in vendors.values())

    press = await world.dc.click(picker.id, vendors["✓ OpenAI"], user_id=USER)

    await world.dc.wait_until(lambda: "✓ gpt-3.5-turbo" in buttons(picker))
    assert picker.content.startswith("**OpenAI** models (page 1/")
    assert press.responses[0].type == 6
