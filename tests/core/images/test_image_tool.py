"""The ``generate_image`` tool mid-conversation, and the gateway client's image calls
against the fake's validation (typed errors, both result forms)."""

from __future__ import annotations

import json

import pytest

from core.app import ChatCore
from core.errors import BadRequest, Unavailable
from core.events import PartShown, ToolCallFinished, TurnFinal
from core.gateway.images import ImageRequest
from core.parts import MediaPart
from tests.core.conftest import ANN, PRIVATE, say
from tests.core.images.conftest import decode, shown_media
from tests.core.test_metering import ledger
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_images import EDITS, FakeImages, png
from tests.fakes.gateway_replies import Text, ToolCalls


async def test_the_model_draws_mid_conversation(icore: ChatCore, images: FakeImages,
                                                fake_gateway: FakeGateway) -> None:
    fake_gateway.script(ToolCalls([("generate_image", json.dumps({"prompt": "a cat"}))]),
                        Text("Here is your cat."))
    events = await say(icore, "please draw a cat")
    part = shown_media(events)
    assert isinstance(part, MediaPart) and len(part.media) == 1
    assert decode(part.media[0].data or b"")[0] == "PNG" and part.media[0].url is None
    assert part.media[0].caption == "A detailed picture of a cat"
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert finished.ok and finished.result == "image generated: A detailed picture of a cat"
    tool_message = fake_gateway.chat_requests()[1]["messages"][-1]
    assert tool_message["content"] == "image generated: A detailed picture of a cat"
    assert isinstance(events[-1], TurnFinal) and events[-1].text == "Here is your cat."
    assert images.image_requests()[0].json["model"] == "dall-e-3"
    rows = await ledger(icore)
    assert [(r["kind"], r["units"]) for r in rows] == [("chat", None), ("image", 1),
                                                       ("chat", None)]
    assert len({r["turn_id"] for r in rows}) == 1  # the image call belongs to the turn


async def test_the_tool_uses_the_chat_image_settings_and_reports_errors_as_text(
        icore: ChatCore, images: FakeImages, fake_gateway: FakeGateway) -> None:
    scope = icore.settings_service.scope_key("chat", PRIVATE, ANN)
    await icore.settings_service.set(scope, "image_model", "dall-e-2")
    fake_gateway.script(
        ToolCalls([("generate_image", json.dumps({"prompt": "a dog", "size": "512x512"}))]),
        Text("Done."),
        ToolCalls([("generate_image", json.dumps({"prompt": "a dog", "size": "9x9"}))]),
        Text("Sorry."))
    events = await say(icore, "draw a dog")
    assert any(isinstance(e, PartShown) for e in events)
    assert images.image_requests()[0].json["size"] == "512x512"
    events = await say(icore, "draw it tiny")
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert finished.result == ("error: dall-e-2 can't make 9x9 images. "
                               "Sizes: 1024x1024, 512x512, 256x256.")
    assert not any(isinstance(e, PartShown) for e in events)
    assert len(images.image_requests()) == 1


@pytest.mark.parametrize(("request_", "message"), [
    (ImageRequest("dall-e-3", "x", n=2), "n must be between 1 and 1 for dall-e-3"),
    (ImageRequest("dall-e-3", "x", size="512x512"), "size 512x512 is not supported"),
    (ImageRequest("dall-e-2", "x", quality="hd"), "quality hd is not supported"),
    (ImageRequest("dall-e-2", "x", n=11), "n must be between 1 and 10 for dall-e-2"),
])
async def test_the_fake_refuses_what_the_api_refuses(
        icore: ChatCore, images: FakeImages, request_: ImageRequest, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        await icore.gateway.generate_images(request_)
    assert message in caught.value.params["detail"]


async def test_edits_need_a_square_png_with_alpha(icore: ChatCore, images: FakeImages) -> None:
    request = ImageRequest("dall-e-2", "a hat")
    with pytest.raises(BadRequest):  # an RGB PNG and no mask: nothing marks what to edit
        await icore.gateway.edit_image(request, png((1, 2, 3), 64))
    rgba = png((1, 2, 3, 0), 64, mode="RGBA")  # type: ignore[arg-type]
    assert len(await icore.gateway.edit_image(request, rgba)) == 1
    assert [r.path for r in images.image_requests()] == [EDITS, EDITS]


async def test_a_bad_signature_download_is_a_typed_error(
        icore: ChatCore, images: FakeImages, fake_gateway: FakeGateway) -> None:
    images.files["x.png"] = png((9, 9, 9))
    with pytest.raises(Unavailable) as caught:
        await icore.gateway.download_image(f"{fake_gateway.url}/files/x.png?sig=forged")
    assert "403" in str(caught.value) and "forged" not in str(caught.value)
    good = f"{fake_gateway.url}/files/x.png?sig={images.sign('x.png')}"
    assert await icore.gateway.download_image(good) == images.files["x.png"]
