"""Core benchmark: turns/s, framework overhead per turn, history load vs stored size.

The fake gateway runs in its own process on loopback; history is SQLite. Prints numbers
(no pass/fail). Targets (one process, SQLite): >= 300 turns/s, framework overhead p99
<= 5 ms, history load flat in stored size (a full context costs the same whether the
conversation holds 1,000 or 1,000,000 messages). More belongs to scale-out (several
processes on PostgreSQL). Usage: python bench/core_turns.py [--turns 4000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bots.heap import settle_heap
from core.app import ChatCore
from core.config import AppSettings
from core.conversation.inputs import UserMessage
from core.conversation.keys import Actor, ChatRef
from core.events import TurnFinal
from core.gateway import ChatChunk, ChatRequest, GatewayClient
from core.storage import NewMessage
from core.storage.writer import MAX_BATCH


def _serve_gateway(port_queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from tests.fakes.gateway import FakeGateway
    from tests.fakes.gateway_replies import Text

    async def main() -> None:
        fake = FakeGateway(record=False)
        fake.responder = lambda request: Text("a short benchmark answer", chunk_size=8)
        await fake.start()
        port_queue.put(fake.url)
        await asyncio.Event().wait()

    asyncio.run(main())


class TimedGateway(GatewayClient):
    """Counts the wall time spent waiting on the gateway inside stream_chat."""

    waited = 0.0

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        stream = super().stream_chat(request).__aiter__()
        while True:
            started = time.perf_counter()
            try:
                chunk = await stream.__anext__()
            except StopAsyncIteration:
                TimedGateway.waited += time.perf_counter() - started
                return
            TimedGateway.waited += time.perf_counter() - started
            yield chunk


async def make_core(url: str, db: Path) -> ChatCore:
    settings = AppSettings(_env_file=None, gateway_base_url=url,  # type: ignore[call-arg]
                           gateway_api_key="bench", database_url=f"sqlite+aiosqlite:///{db}",
                           burst_window=0.0, models_refresh_interval=0)
    core = await ChatCore.create(settings, refresh_models=False)
    await core.gateway.aclose()
    core.gateway = TimedGateway(url, "bench")
    core.engine._gateway = core.gateway
    return core


async def overhead(core: ChatCore, turns: int,
                   turns_per_chat: int) -> tuple[list[float], list[float]]:
    """Sequential turns: per-turn wall time minus time waiting for the gateway, and the
    CPU time of this process (all threads) per turn, which other processes competing
    for the cores inflate far less than the wall time.

    A new conversation starts every ``turns_per_chat`` turns, so the context sent grows
    up to ``2 * turns_per_chat`` messages (a full 16k context holds ~1,700 of these)."""
    samples, cpu = [], []
    for index in range(turns):
        chat = ChatRef("bench", f"seq-{turns_per_chat}-{index // turns_per_chat}",
                       is_private=True)
        actor = Actor("bench", "1")
        TimedGateway.waited = 0.0
        started, cpu_started = time.perf_counter(), time.process_time()
        ticket = await core.submit(chat, actor, UserMessage(text=f"question {index}"))
        result = await ticket.wait()
        assert isinstance(result, TurnFinal), result
        samples.append(time.perf_counter() - started - TimedGateway.waited)
        cpu.append(time.process_time() - cpu_started)
    return samples, cpu


async def throughput(core: ChatCore, turns: int, concurrency: int) -> tuple[float, float]:
    """Turns per second over ``concurrency`` conversations, and CPU seconds per turn."""
    per_lane = turns // concurrency

    async def lane(index: int) -> None:
        chat, actor = ChatRef("bench", f"c{index}", is_private=True), Actor("bench", str(index))
        for turn in range(per_lane):
            ticket = await core.submit(chat, actor, UserMessage(text=f"q{turn}"))
            assert isinstance(await ticket.wait(), TurnFinal)

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(lane(i) for i in range(concurrency)))
    done = per_lane * concurrency
    return done / (time.perf_counter() - started), (time.process_time() - cpu_started) / done


async def history_load(core: ChatCore, sizes: list[int]) -> list[tuple[int, float, float]]:
    """Median time to load a turn's context (cold from the DB, warm from the cache)."""
    results = []
    filler = NewMessage(role="user", content="stored message " * 8, tokens=40)
    for size in sizes:
        key = f"bench:history:{size}"
        conversation = await core.store.current_conversation(key)
        remaining = size
        while remaining:
            batch = min(remaining, 20000)
            await core.store.bulk_insert_messages(conversation, [filler] * batch)
            remaining -= batch
        cold, warm = [], []
        for _ in range(20):
            core.engine.history.forget(conversation)
            started = time.perf_counter()
            await core.engine._load_history(conversation, 16385 - 4096)
            cold.append(time.perf_counter() - started)
            started = time.perf_counter()
            await core.engine._load_history(conversation, 16385 - 4096)
            warm.append(time.perf_counter() - started)
        results.append((size, statistics.median(cold), statistics.median(warm)))
    return results


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(args: argparse.Namespace) -> None:
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=_serve_gateway, args=(queue,), daemon=True)
    server.start()
    url = queue.get(timeout=30)
    with tempfile.TemporaryDirectory() as tmp:
        core = await make_core(url, Path(tmp) / "bench.db")
        settle_heap()  # as bots.runner does before serving
        try:
            await overhead(core, 50, 50)  # warm-up
            print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
                  "(other processes inflate every number below)")
            for per_chat in (20, args.overhead_turns):
                samples, cpu = await overhead(core, args.overhead_turns, per_chat)
                print(f"framework overhead per turn, contexts up to {2 * per_chat} messages: "
                      f"p50 {pct(samples, 0.5) * 1000:.2f} ms, "
                      f"p99 {pct(samples, 0.99) * 1000:.2f} ms  (target p99 <= 5 ms); "
                      f"CPU p50 {pct(cpu, 0.5) * 1000:.2f} ms, p99 {pct(cpu, 0.99) * 1000:.2f} ms")
            writer = core.store.writer
            for label, max_batch in (("", writer.max_batch), (" WITHOUT group commit", 1)):
                writer.max_batch, batches = max_batch, writer.batches
                rate, cpu_per_turn = await throughput(core, args.turns, args.concurrency)
                per_batch = 2 * args.turns / max(1, writer.batches - batches)  # turn + ledger
                print(f"throughput{label}: {rate:.0f} turns/s over {args.concurrency} "
                      f"conversations (target >= 300); CPU {cpu_per_turn * 1000:.2f} ms per "
                      f"turn (~{1 / cpu_per_turn:.0f} turns/s per free core); "
                      f"{per_batch:.1f} writes per transaction; load {os.getloadavg()[0]:.1f}")
            writer.max_batch = MAX_BATCH
            sizes = [10, 100, 1000, 10_000, 100_000, 1_000_000][: args.history_sizes]
            loads = await history_load(core, sizes)
            for size, cold, warm in loads:
                print(f"history load, {size:>9,} stored messages: cold {cold * 1000:.2f} ms, "
                      f"warm {warm * 1000:.3f} ms")
            full = [(size, cold) for size, cold, _ in loads if size >= 1000]
            if len(full) >= 2:  # from 1,000 messages on, the 12k-token context is full
                (small, small_ms), (large, large_ms) = full[0], full[-1]
                print(f"history load flatness: cold {large:,} / {small:,} stored messages = "
                      f"{large_ms / small_ms:.2f}x  (target: flat, ~1x)")
        finally:
            await core.close()
            server.terminate()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--overhead-turns", type=int, default=500)
    parser.add_argument("--history-sizes", type=int, default=6)
    asyncio.run(main(parser.parse_args()))
