"""Benchmark: 100 Discord channels streaming long answers at once through the fakes.

Each of 100 users mentions the bot in its own guild channel; the fake gateway streams a
~2.6 kB answer per channel at ≈50 tokens/s (one 4-character delta every 20 ms).  The
bot runs with its production settings (1.2 s per-channel write interval, 45 writes/s
global pacing).  Prints REST calls per answer, 429s, first-visible-text latency after
the first token (p50/p99) and whether every final text arrived intact.

The fake gateway and the fake Discord (REST + websocket gateway, with the users' side)
each run in their own process, as the real ones are remote; the bot process runs only
the core and the Discord adapter.  ``--inprocess`` runs all of it on one event loop (the
old mode).  Latency is printed twice: inside the bot (first delta reached the presenter
→ its first message was sent) and end to end (the fake gateway started streaming → the
fake Discord stored the first message), both on ``time.monotonic()`` (system-wide).

Run: ``.venv/bin/python bench/discord_streaming.py [--inprocess]`` (finishes in well
under 2 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._fakes_process import GatewayService, Host, host
from tests.fakes.discord import FakeDiscord
from tests.fakes.gateway_chat import message_text
from tests.fakes.gateway_replies import Reply, Text

if TYPE_CHECKING:
    from adapters.discord.streaming import StreamPresenter

# The bot's modules (core, the adapter) are imported in run_bench(): the fakes' child
# processes import this module too (spawn) and need none of them.

CHANNELS = int(os.environ.get("BENCH_CHANNELS", "100"))
TOKEN_CHARS = 4  # ~4 characters per token
TOKENS_PER_SECOND = 50
TOKENS_PER_CHUNK = int(os.environ.get("BENCH_TOKENS_PER_CHUNK", "10"))
# The core parses every SSE chunk with the openai SDK (~1.5 ms CPU each), so 100 streams
# of single-token chunks would measure that, not the adapter: chunks carry 10 tokens
# (still 50 tokens/s per stream).
BODY = "\n\n".join(
    " ".join(f"p{p}w{i}" for i in range(50)) for p in range(7)
)  # ~2.1 kB: spans two Discord messages
RUN_TIMEOUT = 100.0


def answer_for(prompt: str) -> str:
    """The answer the fake gateway streams for ``prompt`` (unique per channel)."""
    return f"Answer to {prompt}:\n\n{BODY}"


def prompt_of(body: dict[str, Any]) -> str:
    """The last user message's text (``question N``)."""
    return message_text(body["messages"][-1]["content"])


def responder(body: dict[str, Any]) -> Reply:
    """Answer the last user message, paced like a real model."""
    return Text(answer_for(prompt_of(body)), chunk_size=TOKEN_CHARS * TOKENS_PER_CHUNK,
                delay=TOKENS_PER_CHUNK / TOKENS_PER_SECOND)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (NaN when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


class DiscordSide:
    """The fake Discord and the benchmark's users (runs in the fake's process)."""

    def __init__(self, channels: int) -> None:
        self.channels = channels
        self.users = [10_000 + i for i in range(channels)]
        self.dc: FakeDiscord | None = None
        self.setup_calls = 0

    async def start(self) -> dict[str, Any]:
        dc = self.dc = FakeDiscord(channel_count=self.channels)
        dc.echo_bot_messages = False
        for user in self.users:
            dc.add_member(user, f"user{user}")
        await dc.start()
        return {"token": dc.token, "api_base": dc.api_base, "gateway_url": dc.gateway_url,
                "guild_id": dc.guild_id, "channel_ids": list(dc.text_channel_ids)}

    async def run(self, seconds: float) -> tuple[float, float]:
        """Every user mentions the bot at once; returns when (monotonic) and how long until
        all answers are done."""
        dc = self.dc
        assert dc is not None
        await dc.wait_ready(timeout=30)
        self.setup_calls = len(dc.calls)
        t0 = time.monotonic()
        await asyncio.gather(*(
            dc.user_sends(cid, user, f"question {n}", mention_bot=True)
            for n, (cid, user) in enumerate(zip(dc.text_channel_ids, self.users, strict=True))))

        def finished() -> bool:
            return all(not m.components and m.content
                       for cid in dc.text_channel_ids for m in dc.channel_messages(cid)) and all(
                "p6w49" in "".join(m.content for m in dc.channel_messages(cid))
                for cid in dc.text_channel_ids)

        await dc.wait_until(finished, timeout=seconds, interval=0.1)
        return t0, time.monotonic() - t0

    async def summary(self) -> dict[str, Any]:
        """REST call counts, 429s and, per channel, the final text and first-message time."""
        dc = self.dc
        assert dc is not None
        calls = dc.calls[self.setup_calls:]
        first_message: dict[int, float] = {}
        for call in calls:
            if call.method == "POST" and call.status == 200 and call.path.endswith("/messages"):
                first_message.setdefault(int(call.path.split("/")[2]), call.at)
        return {
            "calls": len(calls),
            "writes": sum("/messages" in c.path for c in calls),
            "rate_limited": dc.rate_limited,
            "texts": {cid: "\n\n".join(m.content for m in dc.channel_messages(cid))
                      for cid in dc.text_channel_ids},
            "first_message_at": first_message,
        }

    async def stop(self) -> None:
        if self.dc is not None:
            await self.dc.stop()
            self.dc = None


async def run_bench(inprocess: bool) -> None:
    """Run the benchmark and print the numbers."""
    from adapters.discord import DiscordBot
    from adapters.discord.settings import DiscordSettings
    from bots.heap import settle_heap
    from core.app import ChatCore
    from core.config import AppSettings

    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    gateway = host(inprocess, "fake gateway", GatewayService, responder, prompt_of)
    discord = host(inprocess, "fake Discord", DiscordSide, CHANNELS)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(gateway.stop)
        stack.push_async_callback(discord.stop)
        gw, dc = await asyncio.gather(gateway.start(), discord.start())
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="discord-bench-")))
        settings = AppSettings(  # type: ignore[call-arg]
            _env_file=None, gateway_base_url=gw["url"], gateway_api_key="gw-key",
            database_url=f"sqlite+aiosqlite:///{tmp}/bench.db", data_dir=tmp,
            models_refresh_interval=0, burst_window=0.05, max_output_tokens=4096)
        core = await ChatCore.create(settings)
        stack.push_async_callback(core.close)
        bot_settings = DiscordSettings(  # type: ignore[call-arg]
            _env_file=None, bot_token=dc["token"], api_base=dc["api_base"],
            gateway_url=dc["gateway_url"], dev_guild_id=dc["guild_id"])
        bot = DiscordBot(core, bot_settings, guild_ready_timeout=0.1)
        presenters: list[StreamPresenter] = []
        make_presenter = bot.presenter

        def recording_presenter(*args: Any, **kwargs: Any) -> StreamPresenter:
            presenter = make_presenter(*args, **kwargs)
            presenters.append(presenter)
            return presenter

        bot.presenter = recording_presenter  # type: ignore[method-assign]
        await bot.start()
        settle_heap()  # as bots.runner does before serving
        stack.push_async_callback(bot.stop)
        cpu_before = (time.process_time(), await gateway.cpu_seconds(),
                      await discord.cpu_seconds())
        asked_at, elapsed = await discord.call("run", seconds=RUN_TIMEOUT,
                                               reply_timeout=RUN_TIMEOUT + 30)
        cpu = [after - before for before, after in zip(cpu_before, (
            time.process_time(), await gateway.cpu_seconds(), await discord.cpu_seconds()),
            strict=True)]
        summary = await discord.call("summary")
        first_token_at = await gateway.call("first_tokens")
        _report(dc["channel_ids"], summary, first_token_at, presenters, elapsed)
        waits = [at - asked_at for at in first_token_at.values()]
        print(f"users' messages -> gateway's first token: p50 {percentile(waits, 50):.3f} s, "
              f"p99 {percentile(waits, 99):.3f} s, last {max(waits, default=0):.3f} s")
        _print_processes(gateway, discord, inprocess, elapsed, cpu)
        print(f"benchmark wall time            : {time.monotonic() - started:.1f} s")


def _report(channel_ids: list[int], summary: dict[str, Any], first_token_at: dict[str, float],
            presenters: list[StreamPresenter], elapsed: float) -> None:
    expected = {cid: answer_for(f"question {n}") for n, cid in enumerate(channel_ids)}
    intact = sum(summary["texts"][cid] == text for cid, text in expected.items())
    inside = [p.first_visible_at - p.first_delta_at for p in presenters
              if p.first_visible_at is not None and p.first_delta_at is not None]
    end_to_end = [summary["first_message_at"][cid] - first_token_at[f"question {n}"]
                  for n, cid in enumerate(channel_ids)
                  if cid in summary["first_message_at"] and f"question {n}" in first_token_at]
    print(f"channels streaming at once     : {CHANNELS}")
    print(f"answer length / pace           : {len(expected[channel_ids[0]])} chars, "
          f"~{TOKENS_PER_SECOND} tokens/s in chunks of {TOKENS_PER_CHUNK} tokens")
    print(f"all answers complete after     : {elapsed:.1f} s")
    print(f"REST calls per answer          : {summary['calls'] / CHANNELS:.1f} "
          f"({summary['writes'] / CHANNELS:.1f} message sends/edits + typing)")
    print(f"429s received                  : {summary['rate_limited']}")
    print(f"first visible text after first token: p50 {statistics.median(inside):.3f} s, "
          f"p99 {percentile(inside, 99):.3f} s  (in the bot: first delta -> message sent)")
    print(f"  end to end (gateway's first chunk -> fake Discord stored the message): "
          f"p50 {percentile(end_to_end, 50):.3f} s, p99 {percentile(end_to_end, 99):.3f} s")
    print(f"final texts intact             : {intact}/{CHANNELS} "
          f"({100 * intact / CHANNELS:.0f}%)")


def _print_processes(gateway: Host, discord: Host, inprocess: bool, elapsed: float,
                     cpu: list[float]) -> None:
    if inprocess:
        print(f"processes                      : bot (core + DiscordBot), fake gateway and "
              f"fake Discord all in pid {os.getpid()} (--inprocess); CPU while streaming "
              f"{cpu[0]:.1f} s in {elapsed:.1f} s")
        return
    print(f"processes                      : bot (core + DiscordBot) pid {os.getpid()}, "
          f"fake gateway pid {gateway.pid}, fake Discord + users pid {discord.pid}")
    print(f"CPU while streaming            : bot {cpu[0]:.1f} s, fake gateway {cpu[1]:.1f} s, "
          f"fake Discord {cpu[2]:.1f} s (in {elapsed:.1f} s on {os.cpu_count()} cores)")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inprocess", action="store_true",
                        help="run the fakes on the bot's event loop (the old mode)")
    asyncio.run(run_bench(parser.parse_args().inprocess))


if __name__ == "__main__":
    main()
