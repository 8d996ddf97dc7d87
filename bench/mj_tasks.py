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
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._fakes_process import host
from bench._mj_discord import DiscordGroups
from bench._mj_fakes import GroupsSide, MjGatewayService, Plan, peak_rss_mb
from bench._mj_report import analyse, print_timeline, report

# The bot's modules (aiogram, core) are imported in run(): the fakes' child processes
# import this module too (spawn) and need none of them.


def scaled_timing(speed: float) -> Callable[[], Any]:
    """A ``core.midjourney.service.new_timing`` whose clock runs ``speed``× real time."""
    from core.midjourney.tracker import Timing

    wall, mono = time.time(), time.monotonic()

    def clock() -> float:
        return wall + (time.monotonic() - mono) * speed

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / speed)

    return lambda: Timing(clock=clock, sleep=sleep)


@contextlib.asynccontextmanager
async def _patched_timing(speed: float) -> AsyncIterator[None]:
    from core.midjourney import service

    original = service.new_timing
    service.new_timing = scaled_timing(speed)
    try:
        yield
    finally:
        service.new_timing = original


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


async def _start_telegram(core: Any, info: dict[str, Any]) -> tuple[Any, Any]:
    """A started TelegramBot; returns it and its ``drain`` (waits for its handlers)."""
    from adapters.telegram import TelegramBot
    from adapters.telegram.settings import TelegramSettings

    bot = TelegramBot(core, TelegramSettings(
        _env_file=None, bot_token=info["token"], api_url=info["url"]))  # type: ignore[call-arg]
    await bot.start()
    return bot, lambda: bot.handlers.drain(timeout=5)


async def _start_discord(core: Any, info: dict[str, Any]) -> tuple[Any, Any]:
    """A started DiscordBot (production timings); returns it and a no-op drain."""
    from adapters.discord import DiscordBot
    from adapters.discord.settings import DiscordSettings

    bot = DiscordBot(core, DiscordSettings(  # type: ignore[call-arg]
        _env_file=None, bot_token=info["token"], api_base=info["api_base"],
        gateway_url=info["gateway_url"], dev_guild_id=info["guild_id"]),
        guild_ready_timeout=0.1)
    await bot.start()
    return bot, lambda: asyncio.sleep(0)


PLATFORMS: dict[str, tuple[str, str, Any, Any]] = {
    "telegram": ("Telegram", "Bot API", GroupsSide, _start_telegram),
    "discord": ("Discord", "REST", DiscordGroups, _start_discord),
}
"""platform → (name, what its calls are, the fake's service, the bot's starter)."""


async def run(groups: int = 20, users: int = 5, plan: Plan | None = None, *,
              platform: str = "telegram", inprocess: bool = False,
              timeout: float | None = None) -> dict[str, Any]:
    """Run the benchmark once on ``platform`` ("telegram" or "discord"); returns the
    numbers :func:`bench._mj_report.report` prints."""
    from pydantic import SecretStr

    from bots.heap import settle_heap
    from core.app import ChatCore
    from core.config import AppSettings

    plan = plan or Plan()
    name, calls_name, side, start_bot = PLATFORMS[platform]
    if timeout is None:
        timeout = (plan.durations[1] + 2 * plan.refresh + 30) / plan.speed + 90
    gateway = host(inprocess, "fake gateway", MjGatewayService, plan)
    fake = host(inprocess, f"fake {name}", side, groups, users)
    waits: list[float] = []
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(gateway.stop)
        stack.push_async_callback(fake.stop)
        gw, info = await asyncio.gather(gateway.start(), fake.start())
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        await stack.enter_async_context(_patched_timing(plan.speed))
        settings = AppSettings(
            _env_file=None,  # type: ignore[call-arg]
            gateway_base_url=gw["url"], gateway_api_key=SecretStr("gw-key"), data_dir=Path(tmp),
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            models_refresh_interval=0)
        core = await ChatCore.create(settings)
        stack.push_async_callback(core.close)
        _time_queue(core, waits)
        bot, drain = await start_bot(core, info)
        settle_heap()
        stack.push_async_callback(bot.stop)
        ran = await fake.call("run", timeout=timeout, reply_timeout=timeout + 60)
        await drain()
        tracker = core.midjourney.tracker
        stats = {"platform_name": name, "calls_name": calls_name, "groups": groups,
                 "users": users, "plan": plan, "inprocess": inprocess,
                 "elapsed": ran["elapsed"], "asked_at": ran["asked_at"],
                 "platform": await fake.call("summary"),
                 "gateway": await gateway.call("stats"),
                 "tracker": {"requests": tracker.requests, "polls": tracker.polls,
                             "batch": tracker.batch_supported,
                             "following": len(tracker.following)},
                 "queue_waits": list(waits), "bot_rss_mb": peak_rss_mb(),
                 "pids": (os.getpid(), gateway.pid, fake.pid)}
    return analyse(stats)


def _pair(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=("telegram", "discord", "both"),
                        default="telegram")
    parser.add_argument("--groups", type=int, default=20,
                        help="Telegram groups / Discord channels")
    parser.add_argument("--users", type=int, default=5, help="users (= tasks) per group")
    parser.add_argument("--durations", type=_pair, default=(20.0, 60.0),
                        help="task duration range, task seconds (e.g. 20-60)")
    parser.add_argument("--refresh", type=float, default=15.0,
                        help="the gateway refreshes a task from upstream every N task s")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="task seconds per real second (platform limits stay real time)")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--timeline", action="store_true",
                        help="also list every platform call to group 0")
    parser.add_argument("--inprocess", action="store_true",
                        help="run the fakes on the bot's event loop")
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    if args.platform == "both":  # one process per platform: peak RSS and loops apart
        codes = [subprocess.run([sys.executable, __file__, *argv, "--platform", platform],
                                check=False).returncode for platform in ("telegram", "discord")]
        return max(codes)
    logging.basicConfig(level=logging.WARNING)
    plan = Plan(args.durations, args.refresh, args.speed, args.seed)
    stats = asyncio.run(run(args.groups, args.users, plan, platform=args.platform,
                            inprocess=args.inprocess))
    report(stats)
    if args.timeline:
        print_timeline(stats)
    return 0 if stats["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
