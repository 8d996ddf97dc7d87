"""Benchmark: 200 concurrent Telegram chats streaming long answers through the fakes.

Half the chats are private (drafts), half are groups (send + edits). The fake gateway
streams every answer at ~50 tokens/s; the fake Bot API enforces Telegram's flood limits.
Prints Bot API calls per answer, first-token → first-visible-text latency (p50/p99),
429s received and the share of final texts delivered intact.

Run: ``.venv/bin/python -m bench.telegram_streaming [--chats 200]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections import Counter
from pathlib import Path

from aiohttp import web

from adapters.telegram import TelegramBot
from adapters.telegram.render import render_markdown
from core.app import ChatCore
from core.config import AppSettings
from tests.fakes.gateway import CHAT_PATH, Call, FakeGateway
from tests.fakes.gateway_replies import Text
from tests.fakes.telegram import FakeTelegram

TOKENS_PER_SECOND = 50
CHARS_PER_TOKEN = 6
TOKENS_PER_EVENT = 5
"""The gateway sends 5 tokens per SSE event every 0.1 s (50 tokens/s)."""
SETUP_METHODS = {"getMe", "setMyCommands", "deleteWebhook", "getUpdates"}


def long_answer(index: int, paragraphs: int = 14) -> str:
    """A ~5000-character Markdown answer (some bold, several paragraphs)."""
    sentence = f"Chat {index} gets a **long** streamed answer with plenty of words in it. "
    return "\n\n".join(f"Part {n}. " + sentence * 5 for n in range(paragraphs))


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def squeeze(text: str) -> str:
    """Text without any whitespace (message splits trim whitespace at the edges)."""
    return "".join(text.split())


async def run(chats: int) -> int:
    """Run the benchmark; returns a process exit code (0 when every target is met)."""
    gateway = await FakeGateway(record=False).__aenter__()
    tg = await FakeTelegram().start()
    first_token_at: dict[str, float] = {}
    original_handler = gateway._exact[("POST", CHAT_PATH)].handler

    async def timed_chat(call: Call) -> web.StreamResponse:
        prompt = str(call.request.json["messages"][-1]["content"])
        first_token_at.setdefault(prompt, time.monotonic())  # the first delta goes out now
        return await original_handler(call)

    gateway.route("POST", CHAT_PATH, timed_chat)
    with tempfile.TemporaryDirectory() as tmp:
        settings = AppSettings(
            _env_file=None,  # type: ignore[call-arg]
            gateway_base_url=gateway.url, gateway_api_key="gw-key",
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            telegram_bot_token=tg.token, telegram_api_url=tg.url, burst_window=0.1,
            models_refresh_interval=0)
        core = await ChatCore.create(settings)
        bot = TelegramBot(core, settings)
        await bot.start()
        try:
            return await _drive(tg, gateway, bot, chats, first_token_at)
        finally:
            await bot.stop()
            await core.close()
            await tg.stop()
            await gateway.__aexit__(None, None, None)


async def _drive(tg: FakeTelegram, gateway: FakeGateway, bot: TelegramBot, chats: int,
                 first_token_at: dict[str, float]) -> int:
    prompts: dict[int, str] = {}
    kinds: dict[int, str] = {}
    gateway.responder = lambda body: Text(
        _answer_for(str(body["messages"][-1]["content"])),
        chunk_size=CHARS_PER_TOKEN * TOKENS_PER_EVENT,
        delay=TOKENS_PER_EVENT / TOKENS_PER_SECOND)
    for index in range(chats):
        if index % 2 == 0:
            chat = tg.private_chat(10_000 + index)
            prompts[chat.id] = f"question from private chat {index}"
            tg.user_sends(chat, chat.id, prompts[chat.id])
        else:
            chat = tg.group_chat(-1_000_000 - index)
            prompts[chat.id] = f"question from group {index}"
            text, entities = tg.mention_text(prompts[chat.id])
            tg.user_sends(chat, 77, text, entities=entities)
        kinds[chat.id] = "private" if index % 2 == 0 else "group"
    started = time.monotonic()
    expected = {chat_id: squeeze(render_markdown(_answer_for(prompt)).text)
                for chat_id, prompt in prompts.items()}
    pending = set(prompts)

    def all_final() -> bool:
        for chat_id in list(pending):
            messages = tg.bot_messages(chat_id)
            if messages and not any(m.reply_markup for m in messages) and \
                    squeeze("".join(m.text for m in messages)) == expected[chat_id]:
                pending.discard(chat_id)
        return not pending

    deadline = started + 100
    while not all_final() and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
    elapsed = time.monotonic() - started
    await bot.handlers.drain(timeout=5)
    intact = _report(tg, chats, prompts, kinds, expected, first_token_at, elapsed)
    latencies = _private_latencies(tg, prompts, kinds, first_token_at)
    ok = tg.flood_errors == 0 and intact == chats and percentile(latencies, 0.5) <= 0.15
    return 0 if ok else 1


def _answer_for(prompt: str) -> str:
    """The answer the fake gateway streams for a benchmark prompt."""
    return long_answer(int(prompt.rsplit(" ", 1)[1]))


def _private_latencies(tg: FakeTelegram, prompts: dict[int, str], kinds: dict[int, str],
                       first_token_at: dict[str, float]) -> list[float]:
    latencies = []
    for chat_id, prompt in prompts.items():
        if kinds[chat_id] == "private" and tg.drafts(chat_id) and prompt in first_token_at:
            latencies.append(tg.drafts(chat_id)[0].at - first_token_at[prompt])
    return latencies


def _report(tg: FakeTelegram, chats: int, prompts: dict[int, str], kinds: dict[int, str],
            expected: dict[int, str], first_token_at: dict[str, float], elapsed: float) -> int:
    """Print the numbers; returns how many final texts are intact."""
    calls = [c for c in tg.calls if c.method not in SETUP_METHODS]
    by_method = Counter(c.method for c in calls)
    group_first: list[float] = []
    for chat_id, prompt in prompts.items():
        if kinds[chat_id] == "group" and prompt in first_token_at:
            sends = [c.at for c in tg.calls_of("sendMessage")
                     if c.params.get("chat_id") == chat_id and c.status == 200]
            if sends:
                group_first.append(sends[0] - first_token_at[prompt])
    private = _private_latencies(tg, prompts, kinds, first_token_at)
    intact = sum(squeeze("".join(m.text for m in tg.bot_messages(c))) == expected[c]
                 for c in prompts)
    print(f"chats: {chats} ({len(private)} private, {len(group_first)} group), "
          f"answers ~{len(long_answer(0))} chars at ~{TOKENS_PER_SECOND} tokens/s; "
          f"all final after {elapsed:.1f} s")
    print(f"Bot API calls per answer: {len(calls) / chats:.1f}  "
          + ", ".join(f"{name}={count / chats:.1f}" for name, count in by_method.most_common()))
    print(f"first token -> first visible text, private (draft): "
          f"p50 {percentile(private, 0.5) * 1000:.0f} ms, "
          f"p99 {percentile(private, 0.99) * 1000:.0f} ms")
    if group_first:
        print(f"first token -> first visible text, group (message): "
              f"p50 {percentile(group_first, 0.5) * 1000:.0f} ms, "
              f"p99 {percentile(group_first, 0.99) * 1000:.0f} ms")
    print(f"429 flood errors received: {tg.flood_errors}")
    print(f"final texts intact: {100 * intact / chats:.1f}% ({intact}/{chats})")
    return intact


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=200)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    raise SystemExit(asyncio.run(run(args.chats)))


if __name__ == "__main__":
    main()
