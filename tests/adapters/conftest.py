"""Fixtures shared by the Telegram and Discord adapter tests."""

from __future__ import annotations

import pytest

from core.midjourney import service
from core.midjourney.tracker import Timing
from tests.core.midjourney.conftest import VirtualClock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    """Midjourney polling on a virtual clock (modules opt in with
    ``pytestmark = pytest.mark.usefixtures("clock")``)."""
    virtual = VirtualClock()
    monkeypatch.setattr(service, "new_timing",
                        lambda: Timing(clock=virtual.clock, sleep=virtual.sleep))
    return virtual
