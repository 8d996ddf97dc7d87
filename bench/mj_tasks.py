"""Benchmark: 100 concurrent Midjourney tasks in 20 Telegram groups (issue 10).

``--groups`` groups (default 20) of ``--users`` users (default 5); every user sends one
``/mj <prompt>`` at once, so ``groups × users`` tasks run concurrently. The real
Telegram bot (aiogram + the core's Midjourney poller) runs against the fake Bot API
(Telegram's documented limits: ~1 msg/s per chat, 20 msg/min per group, 30 msg/s
overall, 429 + retry_after beyond) and the fake gateway, whose tasks advance with time:
each takes ``--durations`` seconds (default 20-60, uniform, seeded), ~10 % of it
SUBMITTED, then IN_PROGRESS with percent steps and preview images, then SUCCESS; the
gateway refreshes a task from upstream every ``--refresh`` s (default 15, the
reference's "about every 15 s").

Clock: ``--speed`` N runs the Midjourney side N× faster than real time — the fake
tasks' durations and the poller's clock/sleeps (``Timing`` is injectable) — while the
Bot API limits and the adapter's pacing stay in real seconds (they take no injected
clock end to end). The default ``--speed 1`` keeps every ratio real (a full run takes
~2 minutes); a higher speed squeezes more Telegram traffic into each real second,
which only makes the flood limits harder to meet. Poll times are printed in *task*
seconds (fake time), wall times and latencies in real seconds.

Prints tasks completed/failed, wall time, Bot API calls per task by method, 429s
(target 0), calls inside a retry_after window (target 0), gateway requests per task by
route (a list-by-condition batch is one request; "task polls" count each id in it),
the observed poll intervals by poll number (the back-off), status edits per task,
queue wait, result latency and the peak RSS of each process.

Run: ``.venv/bin/python bench/mj_tasks.py [--groups 20 --users 5] [--speed 1]
[--inprocess]``. Exit code 0 when every task completed, no 429, no call inside a
retry_after window and the polls backed off.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._fakes_process import host
from bench._mj_fakes import GroupsSide, MjGatewayService, Plan, peak_rss_mb

# The bot's modules (aiogram, core) are imported in run(): the fakes' child processes
# import this module too (spawn) and need none of them.

JITTER = 0.1
"""Real seconds a poll may come early from scheduling noise (back-off check)."""
EDITS_PER_TASK_MAX = 8.0
"""Target: Bot API edits per task (the progress is a droppable preview)."""


def scaled_timing(speed: float) -> Callable[[], Any]:
    """A ``core.midjourney.service.new_timing`` whose clock runs ``speed``× real time."""
    from core.midjourney.tracker import Timing

    wall, mono = time.time(), time.monotonic()

    def clock() -> float:
        return wall + (time.monotonic() - mono) * speed

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / speed)

    return lambda: Timing(clock=clock, sleep=sleep)


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (nearest rank) of ``values`` (NaN when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


@contextlib.asynccontextmanager
async def _patched_timing(speed: float) -> AsyncIterator[None]:
    from core.midjourney import service

    original = service.new_timing
    service.new_timing = scaled_timing(speed)  # type: ignore[method-assign]
    try:
        yield
    finally:
        service.new_timing = original  # type: ignore[method-assign]


def _time_queue(core: Any, waits: list[float]) -> None:
    """Record how long each image job waited for its slot in the chat's queue."""
    queue = core.image_jobs.queue
    slot = queue.slot

    @contextlib.asynccontextmanager
    async def timed(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        asked = time.monotonic()
        async with slot(*args, **kwargs) as started:
            waits.append(time.monotonic() - asked)
            yield started

    queue.slot = timed


async def run(groups: int = 20, users: int = 5, plan: Plan | None = None, *,
              inprocess: bool = False, timeout: float | None = None) -> dict[str, Any]:
    """Run the benchmark once; returns the numbers :func:`report` prints."""
    from adapters.telegram import TelegramBot
    from adapters.telegram.settings import TelegramSettings
    from bots.heap import settle_heap
    from core.app import ChatCore
    from core.config import AppSettings

    plan = plan or Plan()
    if timeout is None:
        timeout = (plan.durations[1] + 2 * plan.refresh + 30) / plan.speed + 60
    gateway = host(inprocess, "fake gateway", MjGatewayService, plan)
    telegram = host(inprocess, "fake Telegram Bot API", GroupsSide, groups, users)
    waits: list[float] = []
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(gateway.stop)
        stack.push_async_callback(telegram.stop)
        gw, tg = await asyncio.gather(gateway.start(), telegram.start())
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        await stack.enter_async_context(_patched_timing(plan.speed))
        settings = AppSettings(
            _env_file=None,  # type: ignore[call-arg]
            gateway_base_url=gw["url"], gateway_api_key="gw-key",
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            models_refresh_interval=0)
        core = await ChatCore.create(settings)
        stack.push_async_callback(core.close)
        _time_queue(core, waits)
        bot = TelegramBot(core, TelegramSettings(
            _env_file=None, bot_token=tg["token"], api_url=tg["url"]))  # type: ignore[call-arg]
        await bot.start()
        settle_heap()
        stack.push_async_callback(bot.stop)
        ran = await telegram.call("run", timeout=timeout, reply_timeout=timeout + 30)
        await bot.handlers.drain(timeout=5)
        tracker = core.midjourney.tracker
        stats = {"groups": groups, "users": users, "plan": plan, "inprocess": inprocess,
                 "elapsed": ran["elapsed"], "asked_at": ran["asked_at"],
                 "telegram": await telegram.call("summary"),
                 "gateway": await gateway.call("stats"),
                 "tracker": {"requests": tracker.requests, "polls": tracker.polls,
                             "batch": tracker.batch_supported,
                             "following": len(tracker.following)},
                 "queue_waits": list(waits), "bot_rss_mb": peak_rss_mb(),
                 "pids": (os.getpid(), gateway.pid, telegram.pid)}
    return analyse(stats)


def _gaps(stats: dict[str, Any]) -> dict[str, list[float]]:
    """Per task: seconds (task time) from the submit to the 1st poll, then between polls."""
    gw = stats["gateway"]
    out = {}
    for task_id, times in gw["polls"].items():
        points = [gw["created"][task_id], *times]
        out[task_id] = [b - a for a, b in itertools.pairwise(points)]
    return out


def analyse(stats: dict[str, Any]) -> dict[str, Any]:
    """Add the derived numbers (per task, back-off, targets) to ``stats``.

    Back-off check: the n-th interval of a task (submit → 1st poll, then between polls)
    must be at least ``Timing().delay(n)`` minus the poller's ``batch_slack`` (tasks due
    within it are polled together) and ``JITTER`` real seconds."""
    from core.midjourney.tracker import Timing

    tasks = stats["groups"] * stats["users"]
    plan: Plan = stats["plan"]
    tg, gw = stats["telegram"], stats["gateway"]
    completed = sum(min(g["results"], stats["users"]) for g in tg["groups"])
    gaps = _gaps(stats)
    timing = Timing()  # the poller's schedule (task seconds)
    early = [[round(x, 1) for x in g] for g in gaps.values()
             if any(gap < timing.delay(k) - timing.batch_slack - JITTER * plan.speed
                    for k, gap in enumerate(g))]
    late = [gap - timing.delay(k) for g in gaps.values() for k, gap in enumerate(g)]
    by_index: dict[int, list[float]] = {}
    for g in gaps.values():
        for index, gap in enumerate(g):
            by_index.setdefault(index, []).append(gap)
    after_success = sum(1 for task_id, times in gw["polls"].items()
                        if task_id in gw["success_seen"]
                        and sum(1 for t in times if t > gw["success_seen"][task_id]))
    lag = []
    for task_id, seen in gw["success_seen"].items():
        duration = gw["durations"][task_id]
        done = gw["created"][task_id] + duration  # first refresh after it: SUCCESS shown
        available = -(-done // plan.refresh) * plan.refresh
        lag.append(seen - available)
    edits = [e for g in tg["groups"] for e in g["edits"]]
    requests = Counter(gw["requests"])
    stats.update(
        tasks=tasks, completed=completed, failed=tasks - completed,
        poll_requests=requests["fetch"] + requests["list-by-condition"],
        task_polls=sum(len(t) for t in gw["polls"].values()),
        gap_medians={i: statistics.median(v) for i, v in sorted(by_index.items())},
        gap_counts={i: len(v) for i, v in sorted(by_index.items())},
        early=len(early), early_sample=early[:3], late_max=max(late, default=0.0),
        polls_after_success=after_success, success_lag=lag,
        edit_calls=sum(n for m, n in tg["by_method"].items() if m.startswith("edit")),
        max_edits_per_message=max(edits, default=0))
    seen = gw["success_seen_real"]
    stats["shown_after"] = [at - tg["asked_at"] for at in tg["result_at"].values()]
    stats["shown_after_success"] = [at - seen[prompt] for prompt, at in tg["result_at"].items()
                                    if prompt in seen]
    stats["leftover"] = sum(g["messages"] - g["results"] for g in tg["groups"]) - tasks
    stats["ok"] = (completed == tasks and tg["flood_errors"] == 0
                   and tg["inside_window"] == 0 and not early
                   and stats["edit_calls"] / tasks <= EDITS_PER_TASK_MAX)
    return stats


def report(stats: dict[str, Any], out: Callable[[str], Any] = print) -> None:
    """Print the numbers of :func:`run`."""
    tasks, plan = stats["tasks"], stats["plan"]
    tg, gw = stats["telegram"], stats["gateway"]
    bot_pid, gw_pid, tg_pid = stats["pids"]
    lo, hi = plan.durations
    out(f"=== {tasks} Midjourney tasks: {stats['groups']} groups x {stats['users']} users, "
        f"tasks {lo:g}-{hi:g} s, gateway refresh {plan.refresh:g} s, speed x{plan.speed:g} "
        f"({'one process' if stats['inprocess'] else 'fakes in their own processes'}) ===")
    out(f"tasks completed: {stats['completed']}/{tasks}, failed or lost: {stats['failed']}; "
        f"wall time {stats['elapsed']:.1f} s (all results shown)")
    by_method = Counter(tg["by_method"])
    out(f"Bot API calls per task: {by_method.total() / tasks:.2f}  " + ", ".join(
        f"{name}={count / tasks:.2f}" for name, count in by_method.most_common()))
    out(f"429 responses: {tg['flood_errors']}; calls inside a retry_after window: "
        f"{tg['inside_window']}; other errors: {tg['errors'] or 'none'}")
    out(f"status edits per task: {stats['edit_calls'] / tasks:.2f} "
        f"(max {stats['max_edits_per_message']} edits on one message; target <= "
        f"{EDITS_PER_TASK_MAX:g} per task)")
    requests = Counter(gw["requests"])
    batches = gw["batch_sizes"]
    out(f"gateway requests per task: polls {stats['poll_requests'] / tasks:.2f} "
        f"(fetch {requests['fetch'] / tasks:.2f}, list-by-condition "
        f"{requests['list-by-condition'] / tasks:.2f}"
        + (f", {statistics.mean(batches):.1f} ids/batch, max {max(batches)}" if batches
           else "") + f"); task polls {stats['task_polls'] / tasks:.2f}; imagine "
        f"{requests['imagine'] / tasks:.2f}; images: preview "
        f"{requests['image preview'] / tasks:.2f}, final {requests['image final'] / tasks:.2f}")
    medians = stats["gap_medians"]
    out("poll interval by poll number (task s, median [tasks]): " + "  ".join(
        f"#{i + 1}:{gap:.1f}[{stats['gap_counts'][i]}]" for i, gap in medians.items()))
    from core.midjourney.tracker import Timing

    schedule = ", ".join(f"{Timing().delay(k):g}" for k in range(5))
    out(f"back-off: tasks polled sooner than the schedule ({schedule}… s) allows: "
        f"{stats['early']} {' '.join(map(str, stats['early_sample']))}; latest poll "
        f"{stats['late_max']:.1f} s behind it; polls after "
        f"SUCCESS was seen: {stats['polls_after_success']}; SUCCESS at the gateway -> "
        f"polled: p50 {percentile(stats['success_lag'], 0.5):.1f} s, max "
        f"{max(stats['success_lag'], default=float('nan')):.1f} s (task time)")
    tr = stats["tracker"]
    out(f"poller counters: {tr['requests']} requests, {tr['polls']} task polls, "
        f"list-by-condition {'used' if tr['batch'] else 'unsupported'}, "
        f"still following {tr['following']}")
    waits = stats["queue_waits"]
    out(f"queue wait for the submit slot (real s): p50 {percentile(waits, 0.5):.2f}, "
        f"p90 {percentile(waits, 0.9):.2f}, max {max(waits, default=float('nan')):.2f} "
        f"({len(waits)} jobs)")
    for label, values in (("user /mj -> result photo", stats["shown_after"]),
                          ("poller saw SUCCESS -> result photo",
                           stats["shown_after_success"])):
        out(f"{label} (real s): p50 {percentile(values, 0.5):.1f}, p90 "
            f"{percentile(values, 0.9):.1f}, max {max(values, default=float('nan')):.1f} "
            f"({len(values)} tasks)")
    out(f"bot messages left in the groups besides the /mj replies and the results: "
        f"{stats['leftover']} (stale progress messages; target 0)")
    out(f"peak RSS: bot {stats['bot_rss_mb']:.0f} MiB (pid {bot_pid})" + (
        "" if stats["inprocess"] else
        f", fake gateway {gw['rss_mb']:.0f} MiB (pid {gw_pid}), fake Telegram "
        f"{tg['rss_mb']:.0f} MiB (pid {tg_pid})"))
    out("result: " + ("OK" if stats["ok"] else "TARGETS MISSED"))


def print_timeline(stats: dict[str, Any], out: Callable[[str], Any] = print) -> None:
    """Every Bot API call to group 0 (real seconds after the users' /mj)."""
    out("--- Bot API calls to group 0 (s after the /mj messages) ---")
    for at, method, status, text in stats["telegram"]["timeline"]:
        out(f"{at:7.2f} {method} {status} {text}")


def _pair(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--users", type=int, default=5, help="users (= tasks) per group")
    parser.add_argument("--durations", type=_pair, default=(20.0, 60.0),
                        help="task duration range, task seconds (e.g. 20-60)")
    parser.add_argument("--refresh", type=float, default=15.0,
                        help="the gateway refreshes a task from upstream every N task s")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="task seconds per real second (Telegram stays real time)")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--timeline", action="store_true",
                        help="also list every Bot API call to group 0")
    parser.add_argument("--inprocess", action="store_true",
                        help="run the fakes on the bot's event loop")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    plan = Plan(args.durations, args.refresh, args.speed, args.seed)
    stats = asyncio.run(run(args.groups, args.users, plan, inprocess=args.inprocess))
    report(stats)
    if args.timeline:
        print_timeline(stats)
    return 0 if stats["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
