"""``/edit``, ``/vary`` and the buttons under generated images (also after a restart)."""

from __future__ import annotations

from pathlib import Path

from core.app import ChatCore
from core.conversation.inputs import ImageInput
from core.conversation.keys import Actor
from core.events import TurnEvent, TurnFinal
from core.parts import MediaPart
from tests.core.conftest import ANN, BOB, GROUP, PRIVATE, CoreFactory
from tests.core.images.conftest import command, decode, job_events, photo, result_part
from tests.core.test_metering import ledger
from tests.fakes.gateway_images import EDITS, GENERATIONS, VARIATIONS, FakeImages, multipart_form


async def edit(core: ChatCore, prompt: str, image: bytes | None, **args: object
               ) -> tuple[str, list[TurnEvent]]:
    values: dict[str, object] = {"prompt": prompt, **args}
    if image is not None:
        values["image"] = ImageInput(image, "image/jpeg")
    reply = await core.run_command("edit", values, PRIVATE, ANN)
    return reply.text, await job_events(reply)


async def test_edit_sends_a_jpeg_photo_as_a_square_rgba_png(
        icore: ChatCore, images: FakeImages) -> None:
    text, events = await edit(icore, "add a red hat", photo(300, 200))
    assert text == ""
    [request] = images.image_requests()
    assert request.path == EDITS
    assert request.headers["content-type"].startswith("multipart/form-data")
    form = multipart_form(request)
    assert decode(form["image"].data) == ("PNG", "RGBA", (1024, 1024))
    assert form["image"].content_type == "image/png"
    assert {k: v.text for k, v in form.items() if k != "image"} == {
        "prompt": "add a red hat", "model": "dall-e-2", "n": "1", "size": "1024x1024",
        "response_format": "b64_json"}
    part = result_part(events)
    assert len(part.media) == 1 and part.media[0].caption == "add a red hat"
    assert isinstance(events[-1], TurnFinal) and events[-1].model == "dall-e-2"


async def test_edit_with_a_mask_and_size_converts_both(icore: ChatCore,
                                                       images: FakeImages) -> None:
    mask = ImageInput(photo(80, 120, "PNG"), "image/png")
    await edit(icore, "a window", photo(640, 480, "WEBP"), mask=mask, size="512x512", n=2)
    form = multipart_form(images.image_requests()[0])
    assert decode(form["image"].data) == ("PNG", "RGBA", (512, 512))
    assert decode(form["mask"].data) == ("PNG", "RGBA", (512, 512))
    assert form["n"].text == "2"


async def test_edit_without_a_photo_asks_for_one(icore: ChatCore, images: FakeImages) -> None:
    text, events = await edit(icore, "add a hat", None)
    assert text == "Send a photo with /edit, or press ✏️ under a generated image first."
    assert events == [] and images.image_requests() == []


async def test_an_unreadable_photo_is_refused_before_any_request(
        icore: ChatCore, images: FakeImages) -> None:
    text, _ = await edit(icore, "add a hat", b"not an image at all")
    assert text == "I could not read that image."
    assert images.image_requests() == []


async def test_vary_sends_the_photo_without_a_prompt(icore: ChatCore,
                                                     images: FakeImages) -> None:
    reply = await icore.run_command("vary", {"image": ImageInput(photo(200, 300)), "n": 2},
                                    PRIVATE, ANN)
    part = result_part(await job_events(reply))
    assert len(part.media) == 2
    [request] = images.image_requests()
    assert request.path == VARIATIONS
    form = multipart_form(request)
    assert "prompt" not in form
    assert decode(form["image"].data) == ("PNG", "RGBA", (1024, 1024))
    assert [r["units"] for r in await ledger(icore)] == [2]


async def pressed(core: ChatCore, action_id: str, actor: object = ANN,
                  chat: object = PRIVATE) -> list[TurnEvent]:
    outcome = await core.run_action(action_id, chat, actor)  # type: ignore[arg-type]
    assert outcome.ticket is not None, outcome
    return [event async for event in outcome.ticket]


async def test_pick_with_edit_button_then_edit_without_a_photo(
        icore: ChatCore, images: FakeImages) -> None:
    _, events = await command(icore, "/image a green field dall-e-2 512x512")
    part = result_part(events)
    edit_button = part.actions[1][0]
    outcome = await icore.run_action(edit_button.action_id, PRIVATE, ANN)
    assert outcome.notice == "Now send /edit followed by what to change in this image."
    text, events = await edit(icore, "add a cow", None)
    assert text == "" and isinstance(events[-1], TurnFinal)
    form = multipart_form(images.image_requests()[-1])
    assert form["prompt"].text == "add a cow"
    generated = part.media[0].data or b""
    assert decode(form["image"].data) == ("PNG", "RGBA", (1024, 1024))
    assert decode(generated)[2] == (64, 64)  # the fake's tiny image, upscaled to 1024


async def test_variations_button_varies_that_image(icore: ChatCore,
                                                   images: FakeImages) -> None:
    _, events = await command(icore, "/image sunflowers dall-e-2 256x256 n:2")
    vary_second = result_part(events).actions[2][1]
    events = await pressed(icore, vary_second.action_id)
    assert len(result_part(events).media) == 1
    request = images.image_requests()[-1]
    assert request.path == VARIATIONS
    assert multipart_form(request)["size"].text == "256x256"


async def test_variations_of_a_wide_dall_e_3_image_use_a_square_size(
        icore: ChatCore, images: FakeImages) -> None:
    _, events = await command(icore, "/image a wide beach 1792x1024")
    await pressed(icore, result_part(events).actions[2][0].action_id)
    assert multipart_form(images.image_requests()[-1])["size"].text == "1024x1024"


async def test_group_buttons_are_the_requesters_unless_the_chat_says_anyone(
        icore: ChatCore, images: FakeImages) -> None:
    _, events = await command(icore, "/image a castle dall-e-2", chat=GROUP)
    refused = await icore.run_action(result_part(events).actions[0][0].action_id, GROUP, BOB)
    assert refused.notice == "只有提问的人可以使用这个按钮。" and refused.alert
    admin = Actor("test", "9", "Ada", "en", is_chat_admin=True)
    await icore.run_command_text("/settings image_buttons anyone chat", GROUP, admin)
    _, events = await command(icore, "/image a castle dall-e-2", chat=GROUP)
    again = result_part(events).actions[0][0]
    events = await pressed(icore, again.action_id, actor=BOB, chat=GROUP)
    assert isinstance(events[-1], TurnFinal)
    assert [r["user_id"] for r in await ledger(icore)] == [ANN.user_id, ANN.user_id,
                                                            BOB.user_id]


async def test_again_still_works_after_a_restart(
        make_core: CoreFactory, images: FakeImages, data_dir: Path, tmp_path: Path) -> None:
    first = await make_core(data_dir=data_dir)
    _, events = await command(first, "/image a lighthouse dall-e-2 512x512 n:2")
    part: MediaPart = result_part(events)
    await first.close()
    second = await make_core(data_dir=data_dir)  # same database and DATA_DIR
    events = await pressed(second, part.actions[0][0].action_id)
    assert len(result_part(events).media) == 2
    bodies = [r.json for r in images.image_requests()]
    assert [r.path for r in images.image_requests()] == [GENERATIONS, GENERATIONS]
    assert bodies[0] == bodies[1]
    # an edit's "again" re-sends the stored source photo
    _, events = await edit(second, "add a boat", photo(100, 100))
    again = result_part(events).actions[0][0]
    await second.close()
    third = await make_core(data_dir=data_dir)
    await pressed(third, again.action_id)
    sent = [multipart_form(r) for r in images.image_requests()[-2:]]
    assert sent[0]["image"].data == sent[1]["image"].data
    assert sent[1]["prompt"].text == "add a boat"


async def test_a_button_whose_image_file_is_gone_answers_politely(
        icore: ChatCore, images: FakeImages, data_dir: Path) -> None:
    _, events = await command(icore, "/image a boat dall-e-2")
    for file in (data_dir / "images").glob("*.png"):
        file.unlink()
    outcome = await icore.run_action(result_part(events).actions[2][0].action_id, PRIVATE,
                                     ANN)
    assert outcome.alert and outcome.ticket is None
    assert outcome.notice == "That image is no longer stored. Generate a new one with /image."
    assert len(images.image_requests()) == 1
