"""The inbound pipeline without a platform: attachment references and their fetches."""

from __future__ import annotations

import io
import logging

import pytest
from PIL import Image

from core.app import ChatCore
from core.conversation.tickets import TurnTicket
from core.inbound import AttachmentRef, Inbound, Refusal, attachment_kind, command_head
from core.media import AttachmentKind
from tests.core.conftest import ANN, BOB, PRIVATE
from tests.fakes.gateway import FakeGateway

MB = 1024 * 1024


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


class Files:
    """AttachmentRefs whose fetches are counted."""

    def __init__(self) -> None:
        self.fetched: list[str] = []

    def ref(self, name: str, data: bytes, mime: str, *, size: int | None = -1,
            kind: AttachmentKind | None = None, error: Exception | None = None
            ) -> AttachmentRef:
        async def fetch() -> bytes:
            self.fetched.append(name)
            if error is not None:
                raise error
            return data

        return AttachmentRef(name, mime, len(data) if size == -1 else size,
                             kind or attachment_kind(name, mime), fetch)


@pytest.mark.parametrize(("name", "mime", "kind"), [
    ("a.png", "image/png", "image"), ("photo", "image/jpeg", "image"),
    ("b.JPG", "", "image"), ("v.ogg", "audio/ogg", "audio"), ("m.mp4", "video/mp4", "video"),
    ("n.md", "text/markdown", "document"), ("x.exe", "", "document")])
def test_attachment_kind_from_mime_or_name(name: str, mime: str, kind: str) -> None:
    assert attachment_kind(name, mime) == kind


@pytest.mark.parametrize(("text", "head"), [
    ("/model gpt-4", ("model", "")), ("/Model@Bot x", ("model", "Bot")),
    ("/ask\nwhat now", ("ask", "")), ("/usr/bin/env is odd", None), ("hi /model", None),
    ("/", None), ("/ new", None)])
def test_command_head(text: str, head: tuple[str, str] | None) -> None:
    assert command_head(text) == head


async def test_every_problem_is_listed_and_nothing_is_fetched(core: ChatCore) -> None:
    files = Files()
    refs = (files.ref("big.png", png(), "image/png", size=11 * MB),
            files.ref("song.mp3", b"ID3", "audio/mpeg"),
            files.ref("log.txt", b"x", "text/plain", size=3 * MB),
            files.ref("ok.txt", b"fine", "text/plain"))

    result = await core.receive(Inbound(PRIVATE, ANN, "look", attachments=refs))

    assert isinstance(result, Refusal)
    assert result.text.splitlines() == [
        "That image is too large (at most 10 MB).",
        "I can't read song.mp3: only images and text files are supported.",
        "That file is too large (at most 2 MB)."]
    assert result.keys == ("error.image_too_large", "error.file_unsupported",
                           "error.file_too_large")
    assert files.fetched == []


async def test_a_vision_override_lets_an_image_through(core: ChatCore,
                                                        fake_gateway: FakeGateway) -> None:
    files = Files()
    image = files.ref("cat.png", png(), "image/png")
    refused = await core.receive(Inbound(PRIVATE, BOB, "看", attachments=(image,)))
    assert isinstance(refused, Refusal) and refused.keys == ("error.no_vision",)
    assert "gpt-4-vision-preview" in refused.text and "无法识别图片" in refused.text
    assert files.fetched == []

    ticket = await core.receive(Inbound(PRIVATE, BOB, "/ask 看 model:gpt-4-vision-preview",
                                        attachments=(image,)))
    assert isinstance(ticket, TurnTicket)
    await ticket.wait()
    assert files.fetched == ["cat.png"]
    assert fake_gateway.chat_requests()[-1]["model"] == "gpt-4-vision-preview"


async def test_a_failed_fetch_is_told_by_name_and_its_message_never_logged(
        core: ChatCore, fake_gateway: FakeGateway, caplog: pytest.LogCaptureFixture) -> None:
    files = Files()
    broken = files.ref("notes.txt", b"", "text/plain", size=10,
                       error=OSError("GET https://files.example/bot123:SECRET/notes.txt"))
    caplog.set_level(logging.DEBUG)

    result = await core.receive(Inbound(PRIVATE, ANN, "read", attachments=(broken,)))

    assert result == Refusal("I couldn't download notes.txt. Please send it again.",
                             ("error.download_failed",))
    assert "SECRET" not in caplog.text and "OSError" in caplog.text
    assert fake_gateway.chat_requests() == []


async def test_an_undecodable_image_after_the_fetch_is_a_refusal(core: ChatCore) -> None:
    files = Files()
    await core.run_command("model", {"name": "gpt-4-vision-preview"}, PRIVATE, ANN)
    bogus = files.ref("x.png", b"not an image", "image/png")
    result = await core.receive(Inbound(PRIVATE, ANN, "?", attachments=(bogus,)))
    assert isinstance(result, Refusal) and result.keys == ("error.image_unreadable",)
    assert files.fetched == ["x.png"]
