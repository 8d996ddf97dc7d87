"""The Midjourney benchmark (``bench/mj_tasks.py``) in a reduced size, so CI catches
breakage: 4 groups × 1 user each send ``/mj`` → 4 concurrent tasks of 20-30 task
seconds at 10× speed (the Bot API limits stay real time). The run must print every
task completed, no 429, polls backing off on the poller's schedule and a bounded
number of polls per task."""

from __future__ import annotations

import adapters.telegram  # noqa: F401  (imported at collection: the run stays short)
from bench._mj_fakes import Plan
from bench._mj_report import report
from bench.mj_tasks import run
from core.midjourney.tracker import Timing


def polls_needed(seconds: float) -> int:
    """Polls the schedule (2, 4, 8, 15, 15… s after the submit) makes up to and
    including the first one at or after ``seconds``."""
    timing, at, polls = Timing(), 0.0, 0
    while at <= seconds:
        at += timing.delay(polls)
        polls += 1
    return polls


async def test_four_groups_get_their_results_without_429_and_with_backed_off_polls(
        ) -> None:
    plan = Plan(durations=(20.0, 30.0), refresh=10.0, speed=10.0)
    stats = await run(groups=4, users=1, plan=plan, inprocess=True, timeout=30)
    lines: list[str] = []
    report(stats, lines.append)
    printed = "\n".join(lines)

    assert "tasks completed: 4/4, failed or lost: 0" in printed, printed
    assert "429 responses: 0; calls inside a retry_after window: 0" in printed, printed
    assert stats["early"] == 0, printed  # never polled sooner than the back-off allows
    assert stats["polls_after_success"] == 0, printed
    timing = Timing()
    medians = stats["gap_medians"]
    # intervals grow 4 s → 8 s → 15 s (the first one also holds the submit's latency)
    assert medians[1] < medians[2] < medians[3] <= timing.cap + 2, printed
    assert all(medians[k] >= timing.delay(k) - timing.batch_slack for k in range(4)), printed
    # a task is seen done at the gateway's first refresh after it ends (+ one interval)
    bound = polls_needed(plan.durations[1] + plan.refresh + timing.cap)
    assert 1 <= stats["task_polls"] / stats["tasks"] <= bound, printed
    assert stats["poll_requests"] <= stats["task_polls"], printed  # batches never cost more
