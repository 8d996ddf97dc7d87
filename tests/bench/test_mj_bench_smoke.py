"""The Midjourney benchmark (``bench/mj_tasks.py``) in a reduced size, so CI catches
breakage. Telegram: 4 groups × 2 users each send ``/mj`` (a group allows 20 messages a
minute in real time, so more users per group would take tens of seconds; two already
exhaust a group's burst, so progress previews get deferred and must neither be left
behind next to a result nor delay it — with one user per group they never were);
Discord: 2 channels × 2 users. Tasks take 20-30 task seconds at 10× speed (the platform limits
stay real time). Every run must print every task completed, no 429, polls backing
off on the poller's schedule, a bounded number of polls per task and no stale
progress message."""

from __future__ import annotations

from typing import Any

import adapters.discord
import adapters.telegram  # noqa: F401  (imported at collection: the runs stay short)
from bench._mj_fakes import Plan
from bench._mj_report import report
from bench.mj_tasks import run
from core.midjourney.tracker import Timing

PLAN = Plan(durations=(20.0, 30.0), refresh=10.0, speed=10.0)


def polls_needed(seconds: float) -> int:
    """Polls the schedule (2, 4, 8, 15, 15… s after the submit) makes up to and
    including the first one at or after ``seconds``."""
    timing, at, polls = Timing(), 0.0, 0
    while at <= seconds:
        at += timing.delay(polls)
        polls += 1
    return polls


def shortfalls(stats: dict[str, Any]) -> list[str]:
    """The benchmark targets a run's printed report and numbers miss (empty: none)."""
    lines: list[str] = []
    report(stats, lines.append)
    printed = "\n".join(lines)
    tasks = stats["tasks"]
    timing = Timing()
    medians = stats["gap_medians"]
    # a task is seen done at the gateway's first refresh after it ends (+ one interval)
    bound = polls_needed(PLAN.durations[1] + PLAN.refresh + timing.cap)
    checks = {
        "every task completed": f"tasks completed: {tasks}/{tasks}, failed or lost: 0"
                                in printed,
        "no 429": "429 responses: 0; calls inside a retry_after window: " in printed,
        "no call inside a retry_after window": not stats["platform"]["inside_window"],
        "never polled sooner than the back-off": stats["early"] == 0,
        "no poll after SUCCESS": stats["polls_after_success"] == 0,
        # intervals grow 4 s -> 8 s -> 15 s (the first one also holds the submit's latency)
        "intervals grow": medians[1] < medians[2] < medians[3] <= timing.cap + 2,
        "intervals follow the schedule": all(
            medians[k] >= timing.delay(k) - timing.batch_slack for k in range(4)),
        "polls per task bounded": 1 <= stats["task_polls"] / tasks <= bound,
        "batches never cost more": stats["poll_requests"] <= stats["task_polls"],
        "no stale progress message": "stale progress messages left in the chats (neither "
                                     "the /mj reply nor a result): 0" in printed,
    }
    return [f"{name}\n{printed}" for name, ok in checks.items() if not ok]


async def test_four_telegram_groups_get_their_results_without_429_and_with_backed_off_polls(
        ) -> None:
    stats = await run(groups=4, users=2, plan=PLAN, platform="telegram", inprocess=True,
                      timeout=30)
    assert stats["tasks"] == 8
    assert shortfalls(stats) == []


async def test_two_discord_channels_of_two_users_get_their_results_without_429() -> None:
    stats = await run(groups=2, users=2, plan=PLAN, platform="discord", inprocess=True,
                      timeout=30)
    assert stats["tasks"] == 4
    assert shortfalls(stats) == []
