"""``/image``: "Ann sends /image … → the bot shows these images / this message"."""

from __future__ import annotations

import asyncio

import pytest

from core.app import ChatCore
from core.events import PartShown, TurnCancelled, TurnFailed, TurnFinal
from core.parts import ProgressPart
from tests.core.conftest import ANN, BOB, PRIVATE
from tests.core.images.conftest import command, decode, result_part
from tests.core.test_metering import ledger
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_images import GENERATIONS, FakeImages
from tests.fakes.gateway_replies import Hang, ServerError


async def test_dall_e_2_with_n_2_shows_two_images_as_bytes(
        icore: ChatCore, images: FakeImages) -> None:
    reply, events = await command(icore, "/image a red fox in the snow dall-e-2 256x256 n:2")
    assert reply.text == "" and not reply.is_error
    first = events[0]
    assert isinstance(first, PartShown) and isinstance(first.part, ProgressPart)
    assert first.part.ref == "job"
    assert icore.t(first.part.progress.key, "en", **first.part.progress.params) == (
        "🎨 Drawing 2 image(s) with dall-e-2…")
    part = result_part(events)
    assert [m.url for m in part.media] == [None, None]
    assert [decode(m.data or b"") for m in part.media] == [("PNG", "RGB", (64, 64))] * 2
    assert part.media[0].data != part.media[1].data  # two different images
    assert part.media[0].caption == "a red fox in the snow"  # dall-e-2 revises nothing
    final = events[-1]
    assert isinstance(final, TurnFinal) and final.text == "" and final.model == "dall-e-2"
    [request] = images.image_requests()
    assert request.json == {"model": "dall-e-2", "prompt": "a red fox in the snow", "n": 2,
                            "size": "256x256", "response_format": "b64_json"}
    labels = [[a.icon + " " + a.label for a in row] for row in part.actions]
    assert labels == [["🔁 Again"], ["✏️ Edit 1", "✏️ Edit 2"],
                      ["🔀 Variations 1", "🔀 Variations 2"]]


async def test_dall_e_3_caption_is_the_revised_prompt(icore: ChatCore,
                                                      images: FakeImages) -> None:
    _, events = await command(icore, "/image a lighthouse at dusk quality:hd style:natural")
    part = result_part(events)
    assert len(part.media) == 1
    assert part.media[0].caption == "A detailed picture of a lighthouse at dusk"
    assert images.image_requests()[0].json == {
        "model": "dall-e-3", "prompt": "a lighthouse at dusk", "n": 1, "size": "1024x1024",
        "quality": "hd", "style": "natural", "response_format": "b64_json"}


@pytest.mark.parametrize("text", ["/image model:dall-e-2 n:2 two foxes",
                                  "/image n=2 two foxes dall-e-2",
                                  "/image two foxes model:dall-e-2 n:2"])
async def test_options_before_the_prompt_are_options_not_words_to_draw(
        icore: ChatCore, images: FakeImages, text: str) -> None:
    await command(icore, text)
    [request] = images.image_requests()
    assert (request.json["model"], request.json["n"], request.json["prompt"]) == (
        "dall-e-2", 2, "two foxes")


async def test_url_results_are_downloaded_and_sent_as_bytes(
        icore: ChatCore, images: FakeImages, fake_gateway: FakeGateway) -> None:
    images.ignore_response_format = True  # this gateway always answers with signed URLs
    _, events = await command(icore, "/image two moons dall-e-2 n:2")
    part = result_part(events)
    assert [m.url for m in part.media] == [None, None]
    assert [m.data for m in part.media] == list(images.files.values())
    downloads = images.file_requests()
    assert len(downloads) == 2 and all(r.query["sig"] for r in downloads)
    assert all("authorization" not in r.headers for r in downloads)  # no key to the CDN
    assert fake_gateway.url not in part.media[0].caption


@pytest.mark.parametrize(("text", "expected"), [
    ("/image a cat dall-e-3 n:2",
     "dall-e-3 makes at most 1 image(s) per request (you asked for 2)."),
    ("/image a cat dall-e-3 512x512",
     "dall-e-3 can't make 512x512 images. Sizes: 1024x1024, 1792x1024, 1024x1792."),
    ("/image a cat dall-e-2 hd", "dall-e-2 doesn't take quality \"hd\". Qualities: standard."),
    ("/image a cat model:dall-e-2 style:vivid",
     "dall-e-2 doesn't take style \"vivid\". Styles: -."),
    ("/image a cat dall-e-2 n:5",
     "dall-e-2 makes at most 4 image(s) per request (you asked for 5)."),
    ("/image a cat cogview-3 1792x1024",
     "cogview-3 can't make 1792x1024 images. Sizes: 1024x1024, 768x1344, 864x1152, "
     "1344x768, 1152x864, 1440x720, 720x1440."),
    ("/image a cat cogview-3 hd",
     "cogview-3 doesn't take quality \"hd\". Qualities: -."),
    ("/image dall-e-3", "Tell me what to draw, e.g. /image a red fox in the snow."),
    ("/image " + "x" * 1001 + " dall-e-2",
     "That prompt is too long for dall-e-2 (1001 characters, at most 1000)."),
])
async def test_invalid_combinations_are_refused_before_any_request(
        icore: ChatCore, images: FakeImages, text: str, expected: str) -> None:
    reply, events = await command(icore, text)
    assert reply.is_error and reply.ticket is None and events == []
    assert reply.text == expected
    assert images.image_requests() == [] and await ledger(icore) == []


async def test_refusals_are_localized(icore: ChatCore, images: FakeImages) -> None:
    reply, _ = await command(icore, "/image 一只猫 dall-e-3 n:2", actor=BOB)
    assert reply.text == "dall-e-3 每次最多生成 1 张图片(你要求了 2 张)。"
    reply, _ = await command(icore, "/image 一只猫 model:midjourney", actor=BOB)
    assert reply.text == ("midjourney 不能在这里生成图片。"
                          "可用的图片模型:dall-e-2, dall-e-3, cogview-3。")
    reply, _ = await command(icore, "/image 一只猫 model:gpt-4", actor=BOB)
    assert reply.text.startswith("gpt-4 不能在这里生成图片。")
    assert images.image_requests() == []


async def test_the_chat_image_model_setting_is_the_default(
        icore: ChatCore, images: FakeImages) -> None:
    scope = icore.settings_service.scope_key("chat", PRIVATE, BOB)
    await icore.settings_service.set(scope, "image_model", "cogview")  # an alias
    _, events = await command(icore, "/image a mountain lake 768x1344")
    assert isinstance(events[-1], TurnFinal) and events[-1].model == "cogview-3"
    assert images.image_requests()[0].json["size"] == "768x1344"


async def test_each_call_leaves_a_priced_ledger_row(icore: ChatCore,
                                                    images: FakeImages) -> None:
    await command(icore, "/image a red fox dall-e-2 n:3")
    await command(icore, "/image a blue fox")  # dall-e-3
    rows = [(r["kind"], r["model"], r["outcome"], r["units"], r["unit"], r["cost"])
            for r in await ledger(icore)]
    assert rows == [("image", "dall-e-2", "ok", 3, "images", pytest.approx(0.06)),
                    ("image", "dall-e-3", "ok", 1, "images", pytest.approx(0.04))]


async def test_a_gateway_failure_fails_the_job_and_is_recorded(
        icore: ChatCore, images: FakeImages, fake_gateway: FakeGateway) -> None:
    fake_gateway.script(*[ServerError(503)] * 3, route=GENERATIONS)  # 1 try + 2 retries
    _, events = await command(icore, "/image a red fox")
    failed = events[-1]
    assert isinstance(failed, TurnFailed) and failed.key == "error.unavailable"
    assert failed.params["model"] == "dall-e-3"
    assert [(r["kind"], r["outcome"], r["units"]) for r in await ledger(icore)] == [
        ("image", "failed", None)]


async def test_cancelling_a_job_ends_it_and_records_the_call(
        icore: ChatCore, images: FakeImages, fake_gateway: FakeGateway) -> None:
    fake_gateway.script(Hang(30), route=GENERATIONS)
    reply = await icore.run_command_text("/image a slow sunrise", PRIVATE, ANN)
    assert reply is not None and reply.ticket is not None
    async with asyncio.timeout(5):  # barrier: the request reached the gateway
        while not images.image_requests():
            await asyncio.sleep(0.01)
    reply.ticket.cancel()
    events = [event async for event in reply.ticket]
    assert isinstance(events[-1], TurnCancelled)
    assert [(r["kind"], r["outcome"]) for r in await ledger(icore)] == [("image", "cancelled")]
