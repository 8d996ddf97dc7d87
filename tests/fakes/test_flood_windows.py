"""The fake's flood control on an injected clock: strict draft limits, escalating windows."""

from __future__ import annotations

import pytest

from tests.fakes.telegram_rules import ApiError, FloodControl, FloodLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused(call: object) -> int:
    """The retry_after of the 429 that ``call()`` raises."""
    with pytest.raises(ApiError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.status == 429
    assert caught.value.retry_after is not None
    return caught.value.retry_after


def test_strict_draft_limit_then_escalating_waits_inside_the_window() -> None:
    clock = Clock()
    flood = FloodControl(FloodLimits(draft_per_second=0.5, draft_burst=2), clock)
    flood.check_draft(7)
    flood.check_draft(7)
    assert refused(lambda: flood.check_draft(7)) == 2  # 3rd draft at once: wait 2 s
    clock.now += 1.0
    assert refused(lambda: flood.check_window(7)) == 4  # inside the window: doubled
    clock.now += 3.9
    assert refused(lambda: flood.check_window(7)) == 8  # still inside: doubled again
    assert flood.inside_window == {7: 2}
    flood.check_window(8)  # other chats are not affected
    clock.now += 8.0
    flood.check_window(7)  # the window is over: open again
    flood.check_draft(7)
    assert flood.inside_window == {7: 2}


def test_without_escalation_a_call_inside_the_window_gets_the_remaining_wait() -> None:
    clock = Clock()
    flood = FloodControl(FloodLimits(chat_per_second=0.2, chat_burst=1, escalate=False), clock)
    flood.check_message(5, is_private=True)
    assert refused(lambda: flood.check_message(5, is_private=True)) == 5
    clock.now += 1.5
    assert refused(lambda: flood.check_window(5)) == 4
    assert flood.inside_window == {5: 1}
    clock.now += 3.6
    flood.check_window(5)
