"""Fixtures for image tests: a ChatCore (images under a temp DATA_DIR) against the fake
gateway with its image routes installed."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.app import ChatCore
from core.commands.replies import CommandReply
from core.conversation.keys import Actor, ChatRef
from core.events import PartShown, PartUpdated, TurnEvent
from core.parts import MediaPart
from tests.core.conftest import ANN, PRIVATE, CoreFactory
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_images import FakeImages, install_images


@pytest.fixture
def images(fake_gateway: FakeGateway) -> FakeImages:
    """The fake gateway's image routes."""
    return install_images(fake_gateway)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def icore(make_core: CoreFactory, images: FakeImages, data_dir: Path) -> ChatCore:
    """A ChatCore with image routes on the fake and DATA_DIR in a temp folder."""
    return await make_core(data_dir=data_dir)


async def command(core: ChatCore, text: str, chat: ChatRef = PRIVATE,
                  actor: Actor = ANN) -> tuple[CommandReply, list[TurnEvent]]:
    """The user sends a text command; the reply and every event of its job (if any)."""
    reply = await core.run_command_text(text, chat, actor)
    assert reply is not None
    return reply, await job_events(reply)


async def job_events(reply: CommandReply) -> list[TurnEvent]:
    return [event async for event in reply.ticket] if reply.ticket is not None else []


def result_part(events: list[TurnEvent]) -> MediaPart:
    """The MediaPart the job's progress part became."""
    [update] = [e for e in events if isinstance(e, PartUpdated)]
    assert update.update.ref == "job" and isinstance(update.update.part, MediaPart)
    return update.update.part


def shown_media(events: list[TurnEvent]) -> MediaPart:
    [shown] = [e for e in events if isinstance(e, PartShown) and isinstance(e.part, MediaPart)]
    assert isinstance(shown.part, MediaPart)
    return shown.part


def decode(data: bytes) -> tuple[str, str, tuple[int, int]]:
    """(format, mode, size) of image bytes."""
    with Image.open(io.BytesIO(data)) as image:
        return str(image.format), image.mode, image.size


def photo(width: int, height: int, fmt: str = "JPEG", color: Any = (200, 120, 30)) -> bytes:
    """A real photo-like image file."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, fmt)
    return out.getvalue()
