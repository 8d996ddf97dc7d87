"""User runs /mj → progress with preview → grid with U/V/🔄 → U2 → upscale buttons →
Custom Zoom through a prompt → result."""

from __future__ import annotations

from typing import Any

from core.app import ChatCore
from core.events import PartShown, PartUpdated, TurnFinal
from core.parts import ProgressPart
from tests.core.conftest import ANN, PRIVATE
from tests.core.midjourney.conftest import (
    VirtualClock,
    button,
    events_of,
    labels,
    ledger,
    png_size,
    result_media,
)
from tests.fakes.gateway_mj import FakeMidjourney

GRID_ROWS = [["U1", "U2", "U3", "U4", "🔄"], ["V1", "V2", "V3", "V4", "🌱 Seed"]]
UPSCALED_ROWS = [["⏫ Upscale (Subtle)", "⏫ Upscale (Creative)"],
                 ["🪄 Vary (Subtle)", "🪄 Vary (Strong)", "🖌️ Vary (Region)"],
                 ["🔍 Zoom Out 2x", "🔍 Zoom Out 1.5x", "🔍 Custom Zoom"],
                 ["⬅️", "➡️", "⬆️", "⬇️", "🌱 Seed"]]


async def imagine(core: ChatCore, text: str) -> tuple[str, list]:  # type: ignore[type-arg]
    reply = await core.run_command_text(text, PRIVATE, ANN)
    assert reply is not None and not reply.is_error, reply
    events = await events_of(reply.ticket)
    return reply.text, events


async def test_mj_shows_progress_then_the_grid_with_its_buttons(
        core: ChatCore, mj: FakeMidjourney, clock: VirtualClock) -> None:
    text, events = await imagine(core, "/mj a red fox in the snow —ar 16:9")

    assert text == "🎨 Midjourney: `a red fox in the snow --ar 16:9`"
    [(path, body)] = mj.submits("imagine")
    assert path == "/mj/submit/imagine"
    assert body == {"prompt": "a red fox in the snow --ar 16:9", "botType": "MID_JOURNEY"}
    first = events[0]
    assert isinstance(first, PartShown) and isinstance(first.part, ProgressPart)
    assert first.part.ref == "job" and first.part.progress.key == "mj.progress.waiting"
    progress = [e.update.part.progress for e in events if isinstance(e, PartUpdated)
                and isinstance(e.update.part, ProgressPart)]
    assert [p.percent for p in progress] == [30, 70]
    assert all(p.preview is not None and png_size(p.preview.data or b"") == (16, 16)
               for p in progress)
    media = result_media(events)
    assert media.media[0].kind == "image" and png_size(media.media[0].data or b"") == (64, 48)
    assert media.media[0].caption == "`a red fox in the snow --ar 16:9`"
    assert labels(media.actions) == GRID_ROWS
    final = events[-1]
    task_id = next(iter(mj.tasks))
    assert final == TurnFinal(turn_id=task_id, model="midjourney", text="")
    assert await ledger(core) == [("mj_imagine", "ok", 0.1)]


async def test_u2_upscales_with_its_own_buttons_never_from_the_emoji_field(
        core: ChatCore, mj: FakeMidjourney) -> None:
    _, events = await imagine(core, "/mj a red fox")
    grid = result_media(events)
    grid_id = next(iter(mj.tasks))

    outcome = await core.run_action(button(grid.actions, "U2").action_id, PRIVATE, ANN)

    assert outcome.notice == "🎨 U2…"
    upscaled = result_media(await events_of(outcome.ticket))
    assert labels(upscaled.actions) == UPSCALED_ROWS  # no bookmark, no "upscale_1" text
    assert png_size(upscaled.media[0].data or b"") == (32, 32)
    (_, body) = mj.submits("action")[0]
    assert body == {"taskId": grid_id,
                    "customId": f"MJ::JOB::upsample::2::{mj.tasks[grid_id].hash}"}
    assert await ledger(core) == [("mj_imagine", "ok", 0.1), ("mj_upscale", "ok", 0.05)]


async def upscale(core: ChatCore) -> tuple[str, object]:
    _, events = await imagine(core, "/mj a red fox --ar 16:9")
    grid = result_media(events)
    outcome = await core.run_action(button(grid.actions, "U1").action_id, PRIVATE, ANN)
    media = result_media(await events_of(outcome.ticket))
    return "", media


async def custom_zoom(core: ChatCore, mj: FakeMidjourney) -> dict[str, Any]:
    """Custom Zoom through its modal; the body of the ``/mj/submit/modal`` request."""
    _, upscaled = await upscale(core)
    zoom = button(upscaled.actions, "🔍 Custom Zoom")  # type: ignore[attr-defined]

    outcome = await core.run_action(zoom.action_id, PRIVATE, ANN)

    request = outcome.prompt
    assert request is not None and outcome.ticket is None
    assert request.label == "Custom Zoom: send the prompt with --zoom 1 to 2 (e.g. --zoom 1.5)."
    assert request.default_text == "a red fox --ar 16:9 --zoom 2"
    modal_id = next(i for i, t in mj.tasks.items() if t.action == "MODAL")
    reply = await core.submit_prompt(request.action_id, "a red fox —ar 16:9 —zoom 1.5",
                                     PRIVATE, ANN)
    assert not reply.is_error, reply.text
    zoomed = result_media(await events_of(reply.ticket))
    assert labels(zoomed.actions) == GRID_ROWS
    (_, body) = mj.submits("modal")[0]
    assert body == {"taskId": modal_id, "prompt": "a red fox --ar 16:9 --zoom 1.5"}
    again = await core.submit_prompt(request.action_id, "x --zoom 1.5", PRIVATE, ANN)
    assert again.is_error and again.text == "This button is no longer available."
    return dict(body)


async def test_custom_zoom_asks_for_a_prompt_on_code_21(core: ChatCore,
                                                        mj: FakeMidjourney) -> None:
    await custom_zoom(core, mj)
    models = [m for m, _, _ in await ledger(core)]
    assert models == ["mj_imagine", "mj_upscale", "mj_custom_zoom", "mj_modal"]


async def test_custom_zoom_also_when_the_gateway_rewrites_21_to_1(
        core: ChatCore, mj: FakeMidjourney) -> None:
    mj.rewrite_21 = "all"  # strict variant: even Custom Zoom comes back as code 1
    body = await custom_zoom(core, mj)
    assert body["prompt"] == "a red fox --ar 16:9 --zoom 1.5"
    assert body["taskId"] in mj.tasks  # the modal task the rewritten code-1 answer named


async def test_remix_variation_rewritten_to_code_1_still_asks_for_the_prompt(
        core: ChatCore, mj: FakeMidjourney) -> None:
    mj.remix, mj.rewrite_21 = True, "new-api"
    _, events = await imagine(core, "/mj a red fox")
    grid = result_media(events)

    outcome = await core.run_action(button(grid.actions, "V3").action_id, PRIVATE, ANN)

    assert outcome.prompt is not None and outcome.prompt.label == "Remix: send the prompt to use."
    reply = await core.submit_prompt(outcome.prompt.action_id, "a blue fox", PRIVATE, ANN)
    assert labels(result_media(await events_of(reply.ticket)).actions) == GRID_ROWS


async def test_custom_zoom_without_a_zoom_value_is_explained(core: ChatCore,
                                                             mj: FakeMidjourney) -> None:
    _, upscaled = await upscale(core)
    outcome = await core.run_action(
        button(upscaled.actions, "🔍 Custom Zoom").action_id,  # type: ignore[attr-defined]
        PRIVATE, ANN)
    assert outcome.prompt is not None
    for text in ("a red fox", "a red fox --zoom 3"):
        reply = await core.submit_prompt(outcome.prompt.action_id, text, PRIVATE, ANN)
        assert reply.is_error
        assert reply.text == "Custom Zoom needs --zoom between 1 and 2 in the prompt."
    assert mj.submits("modal") == []
