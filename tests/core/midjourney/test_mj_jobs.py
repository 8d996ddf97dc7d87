"""Other Midjourney jobs: Vary Region, blend, describe, shorten, seed, face swap."""

from __future__ import annotations

import base64
import io

from PIL import Image

from core.app import ChatCore
from core.conversation.inputs import ImageInput
from core.parts import ActionsPart
from tests.core.conftest import ANN, BOB, PRIVATE
from tests.core.midjourney.conftest import (
    button,
    events_of,
    final_part,
    labels,
    ledger,
    png,
    result_media,
)
from tests.fakes.gateway_mj import FakeMidjourney


async def upscaled(core: ChatCore) -> object:
    reply = await core.run_command_text("/mj a red fox", PRIVATE, ANN)
    assert reply is not None
    grid = result_media(await events_of(reply.ticket))
    outcome = await core.run_action(button(grid.actions, "U1").action_id, PRIVATE, ANN)
    return result_media(await events_of(outcome.ticket))


async def test_vary_region_picks_squares_then_sends_a_mask_of_the_image_size(
        core: ChatCore, mj: FakeMidjourney) -> None:
    image = await upscaled(core)
    outcome = await core.run_action(
        button(image.actions, "🖌️ Vary (Region)").action_id,  # type: ignore[attr-defined]
        PRIVATE, ANN)
    board = outcome.reply
    assert board is not None and board.text.startswith("Vary Region: tap the squares")
    assert labels(board.actions) == [["⬜"] * 3] * 3 + [["Done"]]

    early = await core.run_action(button(board.actions, "Done").action_id, PRIVATE, ANN)
    assert early.notice == "Select at least one square first." and early.alert
    first = await core.run_action(board.actions[0][0].action_id, PRIVATE, ANN)
    assert first.replace and first.reply is not None
    assert labels(first.reply.actions)[0] == ["✅", "⬜", "⬜"]
    assert "(1 selected)" in first.reply.text
    await core.run_action(board.actions[1][1].action_id, PRIVATE, ANN)
    not_yours = await core.run_action(board.actions[2][2].action_id, PRIVATE, BOB)
    assert not_yours.notice == "只有提问的人可以使用这个按钮。"  # Bob reads Chinese
    done = await core.run_action(button(board.actions, "Done").action_id, PRIVATE, ANN)
    assert done.prompt is not None and done.prompt.accepts_mask

    reply = await core.submit_prompt(done.prompt.action_id, "a golden crown", PRIVATE, ANN)
    result = result_media(await events_of(reply.ticket))

    assert labels(result.actions)[0] == ["U1", "U2", "U3", "U4", "🔄"]
    (_, body) = mj.submits("modal")[0]
    assert body["prompt"] == "a golden crown"
    mask = Image.open(io.BytesIO(base64.b64decode(body["maskBase64"].split(",", 1)[1])))
    assert mask.size == (32, 32)  # the upscaled image's size
    assert mask.getpixel((2, 2)) == 255 and mask.getpixel((16, 16)) == 255  # cells 0 and 4
    assert mask.getpixel((30, 30)) == 0 and mask.getpixel((30, 2)) == 0


async def test_vary_region_accepts_a_mask_image_sent_by_the_user(
        core: ChatCore, mj: FakeMidjourney) -> None:
    image = await upscaled(core)
    outcome = await core.run_action(
        button(image.actions, "🖌️ Vary (Region)").action_id,  # type: ignore[attr-defined]
        PRIVATE, ANN)
    assert outcome.reply is not None
    board = outcome.reply
    await core.run_action(board.actions[0][0].action_id, PRIVATE, ANN)
    done = await core.run_action(button(board.actions, "Done").action_id, PRIVATE, ANN)
    assert done.prompt is not None
    reply = await core.submit_prompt(done.prompt.action_id, "a hat", PRIVATE, ANN,
                                     mask=png(8, 8, (255, 255, 255)))
    await events_of(reply.ticket)
    (_, body) = mj.submits("modal")[0]
    mask = Image.open(io.BytesIO(base64.b64decode(body["maskBase64"].split(",", 1)[1])))
    assert mask.size == (32, 32) and mask.getpixel((30, 30)) == 255


async def test_blend_two_images_into_a_grid(core: ChatCore, mj: FakeMidjourney) -> None:
    reply = await core.run_command("blend", {"images": [png(), png(color=(0, 0, 200))],
                                             "dimensions": "landscape"}, PRIVATE, ANN)
    grid = result_media(await events_of(reply.ticket))
    assert labels(grid.actions)[0] == ["U1", "U2", "U3", "U4", "🔄"]
    (_, body) = mj.submits("blend")[0]
    assert body["dimensions"] == "LANDSCAPE" and len(body["base64Array"]) == 2
    assert body["base64Array"][0].startswith("data:image/png;base64,")

    one = await core.run_command("blend", {"images": [png()]}, PRIVATE, ANN)
    assert one.is_error and one.text == "Blend needs 2 to 5 images (got 1)."


async def test_describe_then_imagine_a_described_prompt(core: ChatCore,
                                                        mj: FakeMidjourney) -> None:
    reply = await core.run_command("describe", {"image": ImageInput(png(), "image/png")},
                                   PRIVATE, ANN)
    part = final_part(await events_of(reply.ticket))
    assert isinstance(part, ActionsPart)
    assert part.text.splitlines() == [
        "🔎 Midjourney describes it as:",
        "1. `a red fox in the snow, watercolor --ar 1:1`",
        "2. `fox portrait, soft light --ar 1:1`",
        "3. `winter forest animal, ink --ar 1:1`",
        "4. `cute orange fox, studio ghibli style --ar 1:1`"]
    assert labels(part.actions) == [["🎨 Imagine 1", "🎨 Imagine 2", "🎨 Imagine 3",
                                     "🎨 Imagine 4"]]

    outcome = await core.run_action(button(part.actions, "🎨 Imagine 2").action_id,
                                    PRIVATE, ANN)
    await events_of(outcome.ticket)
    (_, body) = mj.submits("imagine")[0]
    assert body["prompt"] == "fox portrait, soft light --ar 1:1"  # no 2️⃣, no PicReader
    assert [m for m, _, _ in await ledger(core)] == ["mj_describe", "mj_imagine"]
    assert not mj.submits("action")

    missing = await core.run_command("describe", {}, PRIVATE, ANN)
    assert missing.is_error and missing.text == "Attach an image to describe."


async def test_shorten_offers_each_shorter_prompt(core: ChatCore, mj: FakeMidjourney) -> None:
    reply = await core.run_command_text("/shorten a very detailed red fox in deep snow",
                                        PRIVATE, ANN)
    assert reply is not None
    part = final_part(await events_of(reply.ticket))
    assert isinstance(part, ActionsPart)
    assert part.text.splitlines()[1:3] == ["1. `a very detailed red fox`",
                                           "2. `a very detailed red`"]
    outcome = await core.run_action(part.actions[0][4].action_id, PRIVATE, ANN)
    await events_of(outcome.ticket)
    assert mj.submits("imagine")[0][1]["prompt"] == "a"


async def test_seed_of_a_result_by_button_and_by_command(core: ChatCore,
                                                         mj: FakeMidjourney) -> None:
    reply = await core.run_command_text("/mj a red fox", PRIVATE, ANN)
    assert reply is not None
    grid = result_media(await events_of(reply.ticket))
    task_id = next(iter(mj.tasks))

    pressed = await core.run_action(button(grid.actions, "🌱 Seed").action_id, PRIVATE, ANN)
    by_command = await core.run_command_text(f"/seed {task_id}", PRIVATE, ANN)

    expected = f"🌱 Seed of task `{task_id}`: `{task_id[-6:]}`"
    assert pressed.reply is not None and pressed.reply.text == expected
    assert by_command is not None and by_command.text == expected
    unknown = await core.run_command_text("/seed 42", PRIVATE, ANN)
    assert unknown is not None and unknown.is_error
    assert unknown.text == "That Midjourney task is no longer known to the gateway."


async def test_face_swap_shows_the_consent_notice_once_per_user(
        core: ChatCore, mj: FakeMidjourney) -> None:
    face, picture = png(color=(1, 2, 3)), png(color=(9, 9, 9))
    first = await core.run_command("swap", {"face": face, "target": picture}, PRIVATE, ANN)
    second = await core.run_command("swap", {"images": [face, picture]}, PRIVATE, ANN)

    consent = "ℹ️ Face swap: only use faces of people who agreed to it (shown once)."
    assert first.text == f"{consent}\n🎨 Face swap…"
    assert second.text == "🎨 Face swap…"
    swapped = result_media(await events_of(first.ticket))
    assert swapped.actions == () and swapped.media[0].kind == "image"
    await events_of(second.ticket)
    body = mj.submits("swap")[0][1]
    assert body["sourceBase64"].startswith("data:image/png;base64,")
    same = await core.run_command("swap", {"images": [face, face]}, PRIVATE, ANN)
    assert same.is_error
    assert same.text == ("Midjourney rejected the request: "
                         "source and target images are identical")
    assert [m for m, _, _ in await ledger(core)] == ["swap_face"] * 3
