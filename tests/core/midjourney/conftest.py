"""Midjourney core tests: a real ChatCore and MjClient against the fake gateway's /mj
routes, with the poller on a virtual clock (sleeping advances it at once)."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import pytest
from PIL import Image

from core.app import ChatCore
from core.events import PartShown, PartUpdated, TurnEvent
from core.midjourney import service
from core.midjourney.tracker import Timing
from core.parts import Action, ActionRows, MediaPart, ReplyPart
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_mj import FakeMidjourney, install_midjourney


class VirtualClock:
    """Wall-clock seconds that only move when the poller sleeps; ``slept`` records it."""

    def __init__(self) -> None:
        self.now = time.time()
        self.slept: list[float] = []
        self.running = asyncio.Event()
        """Cleared: the poller's sleeps wait (time stands still while a test sets up)."""
        self.running.set()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await self.running.wait()
        self.slept.append(round(seconds, 3))
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    virtual = VirtualClock()
    monkeypatch.setattr(service, "new_timing",
                        lambda: Timing(clock=virtual.clock, sleep=virtual.sleep))
    return virtual


@pytest.fixture
def mj(fake_gateway: FakeGateway, clock: VirtualClock) -> FakeMidjourney:
    return install_midjourney(fake_gateway)


async def events_of(ticket: Any) -> list[TurnEvent]:
    """Every event of a job ticket (bounded: a stuck job fails the test)."""
    assert ticket is not None
    async with asyncio.timeout(20):
        return [event async for event in ticket]


def final_part(events: list[TurnEvent]) -> ReplyPart:
    """The part that ended the job (the update of "job", or a shown part)."""
    for event in reversed(events):
        if isinstance(event, PartUpdated):
            return event.update.part
        if isinstance(event, PartShown):
            return event.part
    raise AssertionError(f"no part in {events}")


def result_media(events: list[TurnEvent]) -> MediaPart:
    part = final_part(events)
    assert isinstance(part, MediaPart), part
    return part


def labels(rows: ActionRows) -> list[list[str]]:
    """Rows of buttons as "icon label" strings."""
    return [[f"{a.icon} {a.label}".strip() for a in row] for row in rows]


def button(rows: ActionRows, text: str) -> Action:
    for row in rows:
        for action in row:
            if f"{action.icon} {action.label}".strip() == text:
                return action
    raise AssertionError(f"no button {text!r} in {labels(rows)}")


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def png(width: int = 20, height: int = 20, color: tuple[int, int, int] = (200, 10, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


async def ledger(core: ChatCore) -> list[tuple[str, str, float | None]]:
    """(model, outcome, cost) of the usage-ledger rows of kind mj, oldest first."""
    import sqlalchemy as sa

    from core.storage.schema import usage_ledger
    query = (sa.select(usage_ledger.c.model, usage_ledger.c.outcome, usage_ledger.c.cost)
             .where(usage_ledger.c.kind == "mj").order_by(usage_ledger.c.id))
    async with core.store.transaction() as connection:
        rows = (await connection.execute(query)).all()
    return [(r[0], r[1], r[2]) for r in rows]
