"""Benchmark: concurrent Telegram chats streaming long answers through the fakes.

By default every chat is private (drafts) and the fake Bot API enforces a *strict*
draft limit (``--draft-rate`` drafts/s per chat, bursts of ``--draft-burst``; the real
limit is undocumented) with escalating flood waits; ``--groups`` makes every other chat
a group (send + edits). The fake gateway starts answering at once and streams every
answer at ~50 tokens/s. For each ``--chats`` count (default 10 and 50) it prints the
answers complete (x/N), 429s, calls made to a chat inside its retry_after window (must
be 0), user message → first visible text p50/p90, and Bot API calls per answer.

The fake gateway and the fake Bot API (with the users' side: chats, messages, the check
that every answer is final) each run in their own process, as the real ones are remote;
the bot process runs only the core and the Telegram adapter.  ``--inprocess`` runs all
of it on one event loop (the old mode).  "First token" is when the fake gateway starts
streaming an answer, "first visible text" when the fake Bot API receives the first draft
(private) or message (group): ``time.monotonic()`` in both processes (a system-wide clock).

Run: ``.venv/bin/python -m bench.telegram_streaming [--chats 10,50] [--groups] [--inprocess]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._fakes_process import GatewayService, Host, host
from tests.fakes.gateway_replies import Reply, Text
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_rules import FloodLimits

if TYPE_CHECKING:
    from adapters.telegram import TelegramBot

# The bot's modules (aiogram, core) are imported in run(): the fakes' child processes
# import this module too (spawn) and need none of them (they take seconds to import).

TOKENS_PER_SECOND = 50
CHARS_PER_TOKEN = 6
TOKENS_PER_EVENT = 5
"""The gateway sends 5 tokens per SSE event every 0.1 s (50 tokens/s)."""
SETUP_METHODS = {"getMe", "setMyCommands", "deleteWebhook", "getUpdates"}
RUN_TIMEOUT = 100.0
"""Seconds the answers get to become final."""


def long_answer(index: int, paragraphs: int = 14) -> str:
    """A ~5000-character Markdown answer (some bold, several paragraphs)."""
    sentence = f"Chat {index} gets a **long** streamed answer with plenty of words in it. "
    return "\n\n".join(f"Part {n}. " + sentence * 5 for n in range(paragraphs))


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (nearest rank) of ``values`` (NaN when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def squeeze(text: str) -> str:
    """Text without any whitespace (message splits trim whitespace at the edges)."""
    return "".join(text.split())


def scenario(chats: int, groups: bool = False) -> list[tuple[int, str, str]]:
    """``(chat id, "private" | "group", prompt)`` of every benchmark chat."""
    out = []
    for index in range(chats):
        if index % 2 == 0 or not groups:
            out.append((10_000 + index, "private", f"question from private chat {index}"))
        else:
            out.append((-1_000_000 - index, "group", f"question from group {index}"))
    return out


def _answer_for(prompt: str) -> str:
    """The answer the fake gateway streams for a benchmark prompt."""
    return long_answer(int(prompt.rsplit(" ", 1)[1]))


def prompt_of(body: dict[str, Any]) -> str:
    """The prompt of a chat completion request (the last message's text)."""
    return str(body["messages"][-1]["content"])


def responder(body: dict[str, Any]) -> Reply:
    """The fake gateway's answer: the prompt's long answer at ~50 tokens/s."""
    return Text(_answer_for(prompt_of(body)), chunk_size=CHARS_PER_TOKEN * TOKENS_PER_EVENT,
                delay=TOKENS_PER_EVENT / TOKENS_PER_SECOND)


class TelegramSide:
    """The fake Bot API and the users of the benchmark chats (runs in the fake's process)."""

    def __init__(self, chats: int, groups: bool, draft_rate: float, draft_burst: int) -> None:
        self.chats = chats
        self.groups = groups
        self.limits = FloodLimits(draft_per_second=draft_rate, draft_burst=draft_burst)
        self.tg: FakeTelegram | None = None

    async def start(self) -> dict[str, Any]:
        self.tg = await FakeTelegram().start()
        self.tg.limits = self.limits
        return {"url": self.tg.url, "token": self.tg.token}

    async def run(self, expected: dict[int, str], timeout: float) -> tuple[float, float]:
        """Every user asks at once; returns when (monotonic) and how long until all final."""
        tg = self.tg
        assert tg is not None
        for chat_id, kind, prompt in scenario(self.chats, self.groups):
            if kind == "private":
                tg.user_sends(tg.private_chat(chat_id), chat_id, prompt)
            else:
                text, entities = tg.mention_text(prompt)
                tg.user_sends(tg.group_chat(chat_id), 77, text, entities=entities)
        started = time.monotonic()
        pending = set(expected)

        def all_final() -> bool:
            for chat_id in list(pending):
                messages = tg.bot_messages(chat_id)
                if messages and not any(m.reply_markup for m in messages) and \
                        squeeze("".join(m.text for m in messages)) == expected[chat_id]:
                    pending.discard(chat_id)
            return not pending

        deadline = started + timeout
        while not all_final() and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
        return started, time.monotonic() - started

    async def summary(self) -> dict[str, Any]:
        """Call counts, 429s and, per chat, the final text and first-visible times."""
        tg = self.tg
        assert tg is not None
        by_method = Counter(c.method for c in tg.calls if c.method not in SETUP_METHODS)
        first_send: dict[Any, float] = {}
        for call in tg.calls_of("sendMessage"):
            if call.status == 200:
                first_send.setdefault(call.params.get("chat_id"), call.at)
        chats = {}
        for chat_id, _, _ in scenario(self.chats, self.groups):
            drafts = tg.drafts(chat_id)
            chats[chat_id] = {
                "text": squeeze("".join(m.text for m in tg.bot_messages(chat_id))),
                "first_draft_at": drafts[0].at if drafts else None,
                "first_send_at": first_send.get(chat_id),
            }
        return {"by_method": dict(by_method), "flood_errors": tg.flood_errors, "chats": chats,
                "inside_window": sum(tg.calls_inside_retry_window.values())}

    async def stop(self) -> None:
        if self.tg is not None:
            await self.tg.stop()
            self.tg = None


async def run(chats: int, inprocess: bool, groups: bool = False, draft_rate: float = 0.5,
              draft_burst: int = 2) -> int:
    """Run the benchmark; returns a process exit code (0 when every target is met)."""
    from adapters.telegram import TelegramBot
    from adapters.telegram.settings import TelegramSettings
    from bots.heap import settle_heap
    from core.app import ChatCore
    from core.config import AppSettings

    gateway = host(inprocess, "fake gateway", GatewayService, responder, prompt_of)
    telegram = host(inprocess, "fake Telegram Bot API", TelegramSide, chats, groups, draft_rate,
                    draft_burst)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(gateway.stop)
        stack.push_async_callback(telegram.stop)
        gateway_url, tg = (await asyncio.gather(gateway.start(), telegram.start()))
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        settings = AppSettings(
            _env_file=None,  # type: ignore[call-arg]
            gateway_base_url=gateway_url["url"], gateway_api_key="gw-key",
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            models_refresh_interval=0)  # the default burst_window: what users wait
        core = await ChatCore.create(settings)
        stack.push_async_callback(core.close)
        bot = TelegramBot(core, TelegramSettings(
            _env_file=None, bot_token=tg["token"], api_url=tg["url"]))  # type: ignore[call-arg]
        await bot.start()
        settle_heap()  # as bots.runner does before serving
        stack.push_async_callback(bot.stop)
        return await _drive(gateway, telegram, bot, scenario(chats, groups), inprocess)
    return 1  # unreachable (for type checkers)


async def _drive(gateway: Host, telegram: Host, bot: TelegramBot,
                 plan: list[tuple[int, str, str]], inprocess: bool) -> int:
    from adapters.telegram.render import render_markdown

    chats = len(plan)
    expected = {chat_id: squeeze(render_markdown(_answer_for(prompt)).text)
                for chat_id, _, prompt in plan}
    cpu_before = (time.process_time(), await gateway.cpu_seconds(), await telegram.cpu_seconds())
    asked_at, elapsed = await telegram.call("run", expected=expected, timeout=RUN_TIMEOUT,
                                            reply_timeout=RUN_TIMEOUT + 30)
    cpu_after = (time.process_time(), await gateway.cpu_seconds(), await telegram.cpu_seconds())
    await bot.handlers.drain(timeout=5)
    summary = await telegram.call("summary")
    first_token_at: dict[str, float] = await gateway.call("first_tokens")
    _print_processes(gateway, telegram, inprocess, elapsed,
                     [after - before for before, after in zip(cpu_before, cpu_after, strict=True)])
    intact = _report(summary, plan, expected, first_token_at, elapsed)
    visible = _print_first_visible(summary, plan, asked_at)
    _print_first_tokens(first_token_at, asked_at)
    ok = (summary["inside_window"] == 0 and intact == chats
          and percentile(visible, 0.5) <= FIRST_VISIBLE_P50)
    return 0 if ok else 1


FIRST_VISIBLE_P50 = 0.25
"""Target: user message -> first visible text, median (seconds)."""


def _print_first_visible(summary: dict[str, Any], plan: list[tuple[int, str, str]],
                         asked_at: float) -> list[float]:
    """User message -> first visible text (draft or message) per chat, p50/p90."""
    waits = []
    for chat_id, _, _ in plan:
        seen = summary["chats"][chat_id]
        times = [at for at in (seen["first_draft_at"], seen["first_send_at"]) if at is not None]
        if times:
            waits.append(min(times) - asked_at)
    print(f"user message -> first visible text: p50 {percentile(waits, 0.5) * 1000:.0f} ms, "
          f"p90 {percentile(waits, 0.9) * 1000:.0f} ms ({len(waits)}/{len(plan)} chats saw text)")
    return waits


def _print_processes(gateway: Host, telegram: Host, inprocess: bool, elapsed: float,
                     cpu: list[float]) -> None:
    if inprocess:
        print(f"processes: bot (core + TelegramBot), fake gateway and fake Telegram Bot API "
              f"all in pid {os.getpid()} (--inprocess); CPU while streaming: "
              f"{cpu[0]:.1f} s in {elapsed:.1f} s")
        return
    print(f"processes: bot (core + TelegramBot) pid {os.getpid()}, "
          f"fake gateway pid {gateway.pid}, fake Telegram Bot API + users pid {telegram.pid}")
    print(f"CPU while streaming ({elapsed:.1f} s, {os.cpu_count()} cores): bot {cpu[0]:.1f} s, "
          f"fake gateway {cpu[1]:.1f} s, fake Telegram {cpu[2]:.1f} s")


def _print_first_tokens(first_token_at: dict[str, float], asked_at: float) -> None:
    """How long the bot took from the users' messages to the gateway's first tokens."""
    waits = [at - asked_at for at in first_token_at.values()]
    if waits:
        print(f"users' messages -> gateway's first token: "
              f"p50 {percentile(waits, 0.5) * 1000:.0f} ms, "
              f"p99 {percentile(waits, 0.99) * 1000:.0f} ms, last {max(waits) * 1000:.0f} ms")


def _report(summary: dict[str, Any], plan: list[tuple[int, str, str]],
            expected: dict[int, str], first_token_at: dict[str, float],
            elapsed: float) -> int:
    """Print the numbers; returns how many answers arrived complete."""
    chats = len(plan)
    private: list[float] = []
    group: list[float] = []
    for chat_id, kind, prompt in plan:
        seen = summary["chats"][chat_id]
        at = seen["first_draft_at"] if kind == "private" else seen["first_send_at"]
        if at is not None and prompt in first_token_at:
            (private if kind == "private" else group).append(at - first_token_at[prompt])
    intact = sum(summary["chats"][chat_id]["text"] == text for chat_id, text in expected.items())
    by_method = Counter(summary["by_method"])
    print(f"chats: {chats} ({len(private)} private, {len(group)} group), "
          f"answers ~{len(long_answer(0))} chars at ~{TOKENS_PER_SECOND} tokens/s; "
          f"all final after {elapsed:.1f} s")
    print(f"Bot API calls per answer: {by_method.total() / chats:.1f}  "
          + ", ".join(f"{name}={count / chats:.1f}" for name, count in by_method.most_common()))
    print(f"first token -> first visible text, private (draft): "
          f"p50 {percentile(private, 0.5) * 1000:.0f} ms, "
          f"p99 {percentile(private, 0.99) * 1000:.0f} ms")
    if group:
        print(f"first token -> first visible text, group (message): "
              f"p50 {percentile(group, 0.5) * 1000:.0f} ms, "
              f"p99 {percentile(group, 0.99) * 1000:.0f} ms")
    print(f"429 flood errors received: {summary['flood_errors']}")
    print(f"calls to a chat inside its retry_after window: {summary['inside_window']}")
    print(f"answers complete: {intact}/{chats}")
    return intact


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", default="10,50",
                        help="comma-separated concurrent chat counts, one run each")
    parser.add_argument("--groups", action="store_true", help="every other chat is a group")
    parser.add_argument("--draft-rate", type=float, default=0.5,
                        help="fake Bot API: drafts per second per chat (strict; invented)")
    parser.add_argument("--draft-burst", type=int, default=2)
    parser.add_argument("--inprocess", action="store_true",
                        help="run the fakes on the bot's event loop (the old mode)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    code = 0
    for chats in (int(n) for n in args.chats.split(",")):
        print(f"=== {chats} concurrent chats, draft limit {args.draft_rate}/s "
              f"burst {args.draft_burst} ===", flush=True)
        code |= asyncio.run(run(chats, args.inprocess, args.groups, args.draft_rate,
                                args.draft_burst))
    raise SystemExit(code)


if __name__ == "__main__":
    main()
