"""An image call that is cancelled while the gateway draws (the user stops it, or the
bot restarts) was requested and may be billed: its ledger row carries the images asked
for, marked estimated, and their cost. One that fails is assumed unbilled."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web

from core.app import ChatCore
from core.events import TurnCancelled, TurnEvent, TurnFailed
from core.storage.schema import usage_ledger
from tests.core.conftest import ANN, PRIVATE, CoreFactory
from tests.fakes.gateway import Call, FakeGateway
from tests.fakes.gateway_images import GENERATIONS, FakeImages

DALL_E_2_PER_IMAGE = 0.02  # core/models/catalog.json


async def ledger(core: ChatCore) -> list[dict[str, Any]]:
    async with core.store._db.read() as connection:  # test-only peek
        rows = await connection.execute(sa.select(usage_ledger).order_by(usage_ledger.c.id))
        return [dict(row._mapping) for row in rows]


def hold_generations(fake_gateway: FakeGateway) -> asyncio.Event:
    """The gateway receives image requests and never answers; the event is set when
    the first one arrived."""
    arrived = asyncio.Event()

    async def drawing_forever(call: Call) -> web.StreamResponse:
        arrived.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    fake_gateway.route("POST", GENERATIONS, drawing_forever)
    return arrived


@pytest.mark.parametrize("how", ["user stops it", "bot restarts"])
async def test_an_image_call_cancelled_while_drawing_is_recorded_with_its_estimate(
        make_core: CoreFactory, images: FakeImages, fake_gateway: FakeGateway,
        data_dir: Path, tmp_path: Path, how: str) -> None:
    core = await make_core(data_dir=data_dir, db=tmp_path / "i.db")
    arrived = hold_generations(fake_gateway)
    reply = await core.run_command_text("/image two foxes dall-e-2 n:2", PRIVATE, ANN)
    assert reply is not None and reply.ticket is not None
    ticket = reply.ticket

    async def events() -> list[TurnEvent]:
        return [event async for event in ticket]

    watching = asyncio.create_task(events())
    await arrived.wait()
    if how == "user stops it":
        ticket.cancel()
    else:
        await core.close()
    assert isinstance((await watching)[-1], TurnCancelled | TurnFailed)

    if how == "bot restarts":
        core = await make_core(data_dir=data_dir, db=tmp_path / "i.db")
    [row] = await ledger(core)
    assert (row["kind"], row["model"], row["outcome"]) == ("image", "dall-e-2", "cancelled")
    assert (row["units"], row["unit"], row["estimated"]) == (2, "images", True)
    assert row["cost"] == pytest.approx(2 * DALL_E_2_PER_IMAGE)


async def test_a_failed_image_call_is_recorded_without_units(
        icore: ChatCore, images: FakeImages, fake_gateway: FakeGateway) -> None:
    async def upstream_error(call: Call) -> web.StreamResponse:
        return web.json_response({"error": {"message": "upstream", "type": "x"}}, status=500)

    fake_gateway.route("POST", GENERATIONS, upstream_error)
    reply = await icore.run_command_text("/image a broken fox dall-e-2", PRIVATE, ANN)
    assert reply is not None and reply.ticket is not None
    assert isinstance([event async for event in reply.ticket][-1], TurnFailed)
    rows = await ledger(icore)
    assert rows and {(r["outcome"], r["units"], r["estimated"]) for r in rows} == {
        ("failed", None, False)}
