"""/image in a busy group: the job waits its turn, shows its place, then replies."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from core.app import ChatCore
from core.conversation.keys import Actor
from core.events import (
    PartShown,
    PartUpdated,
    ToolCallFinished,
    TurnEvent,
    TurnFailed,
    TurnFinal,
)
from core.image_jobs import queued_progress
from core.parts import MediaPart, PartUpdate, Progress, ProgressPart
from tests.core.conftest import ANN, GROUP, CoreFactory, say
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_images import FakeImages
from tests.fakes.gateway_replies import Text, ToolCalls

CAT = Actor("test", "3", "Cat", "en")


async def test_a_queued_image_job_shows_its_position_then_replies_mentioning(
        make_core: CoreFactory, images: FakeImages, data_dir: Path) -> None:
    core: ChatCore = await make_core(data_dir=data_dir, image_jobs_per_chat=1)
    busy = asyncio.Event()
    release = asyncio.Event()

    async def cats_job() -> None:  # another user's job holds the chat's only slot
        async with core.image_jobs.slot(GROUP, CAT, "mj"):
            busy.set()
            await release.wait()

    holder = asyncio.create_task(cats_job())
    await busy.wait()
    reply = await core.run_command_text("/image a castle dall-e-2", GROUP, ANN)
    assert reply is not None and reply.ticket is not None
    events: list[TurnEvent] = [await anext(reply.ticket), await anext(reply.ticket)]
    drawing = ProgressPart(Progress("image.progress_generate", {"model": "dall-e-2", "n": 1}),
                           ref="job")
    assert events == [PartShown(drawing), PartUpdated(PartUpdate("job", queued_progress(1)))]
    assert images.image_requests() == []  # no gateway call while it waits
    release.set()
    await holder
    events = [event async for event in reply.ticket]
    assert events[0] == PartUpdated(PartUpdate("job", drawing))
    result = events[1]
    assert isinstance(result, PartUpdated) and isinstance(result.update.part, MediaPart)
    assert result.update.part.reply_to_request and result.update.part.mention_requester
    assert isinstance(events[2], TurnFinal) and len(events) == 3


async def test_image_jobs_beyond_the_daily_allowance_fail_politely(
        make_core: CoreFactory, images: FakeImages, data_dir: Path) -> None:
    core: ChatCore = await make_core(data_dir=data_dir, image_daily_allowance=1)
    first = await core.run_command_text("/image a castle dall-e-2", GROUP, ANN)
    assert first is not None and first.ticket is not None
    assert isinstance(await first.ticket.wait(), TurnFinal)
    second = await core.run_command_text("/image a castle dall-e-2", GROUP, ANN)
    assert second is not None and second.ticket is not None
    failed = await second.ticket.wait()
    assert isinstance(failed, TurnFailed) and failed.key == "image.allowance_used_up"
    assert core.failure_text(failed, "en").startswith("You have used your 1 images for today")
    assert len(images.image_requests()) == 1


async def test_the_image_tool_respects_the_daily_allowance(
        make_core: CoreFactory, images: FakeImages, data_dir: Path,
        fake_gateway: FakeGateway) -> None:
    core: ChatCore = await make_core(data_dir=data_dir, image_daily_allowance=1)
    draw = ToolCalls([("generate_image", json.dumps({"prompt": "a cat"}))])
    fake_gateway.script(draw, Text("Here is your cat."), draw, Text("No more today."))
    await say(core, "please draw a cat", GROUP, ANN)
    events = await say(core, "another one", GROUP, ANN)
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert finished.result.startswith("error: You have used your 1 images for today")
    assert len(images.image_requests()) == 1
