"""Benchmark: 100 Discord channels streaming long answers at once through the fakes.

Each of 100 users mentions the bot in its own guild channel; the fake gateway streams a
~2.6 kB answer per channel at ≈50 tokens/s (one 4-character delta every 20 ms).  The
bot runs with its production settings (1.2 s per-channel write interval, 45 writes/s
global pacing).  Prints REST calls per answer, 429s, first-visible-text latency after
the first token (p50/p99) and whether every final text arrived intact.

Run: ``.venv/bin/python bench/discord_streaming.py`` (finishes in well under 2 minutes).
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.discord import DiscordBot
from adapters.discord.streaming import StreamPresenter
from core.app import ChatCore
from core.config import AppSettings
from tests.fakes.discord import FakeDiscord
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_chat import message_text
from tests.fakes.gateway_replies import Reply, Text

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


def answer_for(prompt: str) -> str:
    """The answer the fake gateway streams for ``prompt`` (unique per channel)."""
    return f"Answer to {prompt}:\n\n{BODY}"


def responder(body: dict[str, Any]) -> Reply:
    """Answer the last user message, paced like a real model."""
    prompt = message_text(body["messages"][-1]["content"])
    return Text(answer_for(prompt), chunk_size=TOKEN_CHARS * TOKENS_PER_CHUNK,
                delay=TOKENS_PER_CHUNK / TOKENS_PER_SECOND)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def main() -> None:
    """Run the benchmark and print the numbers."""
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="discord-bench-"))
    gateway = FakeGateway(record=False)
    gateway.responder = responder
    dc = FakeDiscord(channel_count=CHANNELS)
    dc.echo_bot_messages = False
    users = [10_000 + i for i in range(CHANNELS)]
    for user in users:
        dc.add_member(user, f"user{user}")
    await gateway.start()
    await dc.start()
    settings = AppSettings(  # type: ignore[call-arg]
        _env_file=None, gateway_base_url=gateway.url, gateway_api_key="gw-key",
        database_url=f"sqlite+aiosqlite:///{tmp}/bench.db", data_dir=tmp,
        discord_bot_token=dc.token, discord_api_base=dc.api_base,
        discord_gateway_url=dc.gateway_url, discord_dev_guild_id=dc.guild_id,
        models_refresh_interval=0, burst_window=0.05, max_output_tokens=4096)
    core = await ChatCore.create(settings)
    bot = DiscordBot(core, settings, guild_ready_timeout=0.1)
    presenters: list[StreamPresenter] = []
    make_presenter = bot.presenter

    def recording_presenter(*args: Any, **kwargs: Any) -> StreamPresenter:
        presenter = make_presenter(*args, **kwargs)
        presenters.append(presenter)
        return presenter

    bot.presenter = recording_presenter  # type: ignore[method-assign]
    await bot.start()
    try:
        setup_calls = len(dc.calls)
        expected = {cid: answer_for(f"question {n}")
                    for n, cid in enumerate(dc.text_channel_ids)}
        t0 = time.monotonic()
        await asyncio.gather(*(
            dc.user_sends(cid, user, f"question {n}", mention_bot=True)
            for n, (cid, user) in enumerate(zip(dc.text_channel_ids, users, strict=True))))

        def finished() -> bool:
            return all(not m.components and m.content
                       for cid in dc.text_channel_ids for m in dc.channel_messages(cid)) and all(
                "p6w49" in "".join(m.content for m in dc.channel_messages(cid))
                for cid in dc.text_channel_ids)

        await dc.wait_until(finished, timeout=100, interval=0.1)
        elapsed = time.monotonic() - t0
        intact = sum(
            "\n\n".join(m.content for m in dc.channel_messages(cid)) == text
            for cid, text in expected.items())
        calls = len(dc.calls) - setup_calls
        latencies = [p.first_visible_at - p.first_delta_at for p in presenters
                     if p.first_visible_at is not None and p.first_delta_at is not None]
        writes = [c for c in dc.calls[setup_calls:] if "/messages" in c.path]
        print(f"channels streaming at once     : {CHANNELS}")
        print(f"answer length / pace           : {len(expected[dc.text_channel_ids[0]])} chars, "
              f"~{TOKENS_PER_SECOND} tokens/s in chunks of {TOKENS_PER_CHUNK} tokens")
        print(f"all answers complete after     : {elapsed:.1f} s")
        print(f"REST calls per answer          : {calls / CHANNELS:.1f} "
              f"({len(writes) / CHANNELS:.1f} message sends/edits + typing)")
        print(f"429s received                  : {dc.rate_limited}")
        print(f"first visible text after first token: p50 {statistics.median(latencies):.3f} s, "
              f"p99 {percentile(latencies, 99):.3f} s")
        print(f"final texts intact             : {intact}/{CHANNELS} "
              f"({100 * intact / CHANNELS:.0f}%)")
        print(f"benchmark wall time            : {time.monotonic() - started:.1f} s")
    finally:
        await bot.stop()
        await core.close()
        await dc.stop()
        await gateway.stop()


if __name__ == "__main__":
    asyncio.run(main())
