"""The fake Discord of the Midjourney benchmark (``bench/mj_tasks.py --platform discord``).

``groups`` text channels in one guild with ``users`` members each; every user runs the
slash command ``/mj prompt:<prompt>`` in its channel at once. The fake enforces its
per-channel message limit (``DiscordLimits``: 5 creates/edits per 5 s per channel,
interaction webhooks per token) and answers 429 beyond it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from bench._mj_fakes import REPLY_PREFIX, peak_rss_mb, prompt_of
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_models import FakeMessage


def route_of(method: str, path: str) -> str:
    """``PATCH /channels/{}/messages/{}``: a REST call with ids and tokens elided."""
    parts = ["{}" if p.isdigit() or p.startswith("fake-itok-") else p
             for p in path.split("?")[0].split("/")]
    return f"{method} {'/'.join(parts)}"


def _labels(message: FakeMessage) -> str:
    return " ".join(str(b.get("label") or "") for row in message.components
                    for b in row.get("components", []))


class DiscordGroups:
    """The fake Discord and the users of ``groups`` channels × ``users`` users."""

    def __init__(self, groups: int, users: int) -> None:
        self.groups = groups
        self.users = users
        self.dc: FakeDiscord | None = None
        self.asked_at = 0.0
        self.setup_calls = 0
        self.result_at: dict[str, float] = {}

    def user_id(self, group: int, user: int) -> int:
        return 60_000 + group * 100 + user

    async def start(self) -> dict[str, Any]:
        dc = self.dc = FakeDiscord(channel_count=self.groups)
        dc.echo_bot_messages = False
        for g in range(self.groups):
            for u in range(self.users):
                dc.add_member(self.user_id(g, u), f"user{g}-{u}")
        await dc.start()
        return {"token": dc.token, "api_base": dc.api_base, "gateway_url": dc.gateway_url,
                "guild_id": dc.guild_id}

    def _results(self, channel: int) -> list[FakeMessage]:
        assert self.dc is not None
        return [m for m in self.dc.channel_messages(channel)
                if m.attachments and "U1" in _labels(m)]

    async def run(self, timeout: float) -> dict[str, Any]:
        """Every user runs ``/mj`` at once; returns when every channel shows its results
        (or at ``timeout`` real seconds): asked-at (monotonic) and elapsed seconds."""
        dc = self.dc
        assert dc is not None
        await dc.wait_ready(timeout=30)
        await asyncio.sleep(0.5)  # the command sync the bot starts with
        self.setup_calls = len(dc.calls)
        channels = list(dc.text_channel_ids)
        self.asked_at = started = time.monotonic()
        await asyncio.gather(*(
            dc.slash("mj", {"prompt": prompt_of(g, u)}, user_id=self.user_id(g, u),
                     channel_id=channel)
            for u in range(self.users) for g, channel in enumerate(channels)))
        deadline = started + timeout
        while time.monotonic() < deadline:
            done = 0
            for channel in channels:
                results = self._results(channel)
                done += len(results) >= self.users
                for message in results:
                    self.result_at.setdefault(message.content.strip("`"), time.monotonic())
            if done == len(channels):
                break
            await asyncio.sleep(0.1)
        return {"asked_at": started, "elapsed": time.monotonic() - started}

    async def summary(self) -> dict[str, Any]:
        """REST calls by route, 429s, per-channel results/edits, result times."""
        dc = self.dc
        assert dc is not None
        calls = dc.calls[self.setup_calls:]
        groups = []
        for channel in dc.text_channel_ids:
            messages = dc.channel_messages(channel)
            results = self._results(channel)
            groups.append({"results": len(results), "messages": len(messages),
                           "stale": sum(1 for m in messages if m not in results
                                        and not m.content.startswith(REPLY_PREFIX)),
                           "edits": [m.edits for m in messages],
                           "texts": [m.content[:80] for m in messages]})
        first = dc.text_channel_ids[0]
        tokens = [i.token for i in dc.interactions.values() if i.channel_id == first]
        return {"by_method": dict(Counter(route_of(c.method, c.path) for c in calls)),
                "flood_errors": dc.rate_limited, "inside_window": None,
                "errors": dict(Counter(f"{route_of(c.method, c.path)} {c.status}"
                                       for c in calls if c.status >= 300 and c.status != 429)),
                "asked_at": self.asked_at, "groups": groups, "result_at": dict(self.result_at),
                "rss_mb": peak_rss_mb(),
                "timeline": [(round(c.at - self.asked_at, 2), route_of(c.method, c.path),
                              c.status, str(c.body)[:60]) for c in calls
                             if str(first) in c.path or any(t in c.path for t in tokens)]}

    async def stop(self) -> None:
        if self.dc is not None:
            await self.dc.stop()
            self.dc = None
