"""The fakes of the Midjourney benchmark (``bench/mj_tasks.py``), each run in its own process.

* :class:`TimedMidjourney` — the fake gateway's Midjourney routes with tasks that advance
  with *time*, not with polls: each task takes ``duration`` seconds of fake time
  (uniform in ``Plan.durations``, seeded), waits ~10 % of it in SUBMITTED, then shows
  IN_PROGRESS with a growing percent and a preview ``imageUrl``, then SUCCESS. The
  gateway refreshes its tasks from upstream only every ``Plan.refresh`` seconds, on one
  timer for all tasks (the reference: "gateways poll upstream about every 15 s, so
  progress moves in steps"), so a poll sees a task as of the last refresh (a task
  submitted after it shows status ``""``). Fake time runs ``Plan.speed`` times
  faster than ``time.monotonic()``. Every poll (``fetch`` or one id of a
  ``list-by-condition``) is recorded with its fake time.
* :class:`MjGatewayService` — that fake gateway as a ``bench._fakes_process`` service.
* :class:`GroupsSide` — the fake Bot API with ``groups`` supergroups of ``users`` users
  each; every user sends ``/mj <prompt>`` at once.

The fake Bot API counts every call of ``MESSAGE_METHODS`` (sends and edits, captions and
media included) against the message limits.
"""

from __future__ import annotations

import asyncio
import random
import resource
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.gateway import Call, FakeGateway
from tests.fakes.gateway_mj import FakeMidjourney, FakeTask
from tests.fakes.telegram import FakeTelegram, FloodLimits

SETUP_METHODS = frozenset({"getMe", "setMyCommands", "deleteWebhook", "getUpdates",
                           "getMyCommands", "deleteMyCommands"})
MESSAGE_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup",
                             "editMessageCaption", "editMessageMedia", "sendPhoto",
                             "sendDocument", "sendMediaGroup"})
"""Calls counted against Telegram's message limits (the adapter's ``LIMITED_METHODS``)."""
REPLY_PREFIX = "🎨 Midjourney:"
"""How the bot's answer to ``/mj`` starts (``mj.started`` in English)."""


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (Linux ``ru_maxrss`` is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class Plan:
    """How fake tasks run: ``durations`` (min, max) fake seconds per task, the gateway's
    upstream ``refresh`` period (fake seconds), ``speed`` (fake seconds per real second)
    and the random ``seed`` of the durations."""

    durations: tuple[float, float] = (20.0, 60.0)
    refresh: float = 15.0
    speed: float = 1.0
    seed: int = 10

    def stage(self, now: float, created: float, duration: float) -> tuple[str, str]:
        """(status, progress) a poll at fake time ``now`` sees of a task submitted at
        ``created``: its state at the gateway's last refresh (every ``refresh`` s)."""
        seen = (now // self.refresh) * self.refresh - created
        if seen < 0:
            return "", "0%"  # the gateway has not looked upstream since the submit
        queued = 0.1 * duration
        if seen >= duration:
            return "SUCCESS", "100%"
        if seen < queued:
            return "SUBMITTED", "0%"
        percent = round(100 * (seen - queued) / (duration - queued))
        return "IN_PROGRESS", f"{min(99, max(1, percent))}%"


class TimedMidjourney(FakeMidjourney):
    """``FakeMidjourney`` whose tasks advance with fake time (see the module docstring)."""

    def __init__(self, fake: FakeGateway, plan: Plan) -> None:
        super().__init__(fake)
        self.plan = plan
        self._t0 = time.monotonic()
        self._random = random.Random(plan.seed)
        self.created: dict[str, float] = {}
        self.durations: dict[str, float] = {}
        self.poll_times: dict[str, list[float]] = {}
        self.success_seen: dict[str, float] = {}
        """Task id → fake time the first poll saw it SUCCESS."""
        self.success_seen_real: dict[str, float] = {}
        """Prompt → ``time.monotonic()`` when the first poll saw its task SUCCESS."""
        self.requests_by_route: Counter[str] = Counter()
        self.batch_sizes: list[int] = []

    def now(self) -> float:
        """Fake seconds since the gateway started."""
        return (time.monotonic() - self._t0) * self.plan.speed

    def _new(self, call: Call, action: str, prompt: str = "", **extra: Any) -> FakeTask:
        task = super()._new(call, action, prompt, **extra)
        self.created[task.id] = self.now()
        self.durations[task.id] = self._random.uniform(*self.plan.durations)
        return task

    def view(self, task: FakeTask, *, poll: bool) -> dict[str, Any]:
        if task.id in self.created and task.action != "MODAL":
            now = self.now()
            stage = self.plan.stage(now, self.created[task.id], self.durations[task.id])
            task.steps, task.polls = (stage,), 0
            if poll:
                self.poll_times.setdefault(task.id, []).append(now)
                if stage[0] == "SUCCESS" and task.id not in self.success_seen:
                    self.success_seen[task.id] = now
                    self.success_seen_real[task.prompt] = time.monotonic()
        return super().view(task, poll=poll)

    async def _fetch(self, call: Call) -> web.StreamResponse:
        self.requests_by_route["fetch"] += 1
        return await super()._fetch(call)

    async def _list(self, call: Call) -> web.StreamResponse:
        self.requests_by_route["list-by-condition"] += 1
        self.batch_sizes.append(len((call.request.json or {}).get("ids") or []))
        return await super()._list(call)

    async def _image(self, call: Call) -> web.StreamResponse:
        stage = call.request.query.get("stage", "")
        self.requests_by_route["image final" if stage == "final" else "image preview"] += 1
        return await super()._image(call)

    async def _imagine(self, call: Call) -> web.StreamResponse:
        self.requests_by_route["imagine"] += 1
        return await super()._imagine(call)


class MjGatewayService:
    """The fake gateway with :class:`TimedMidjourney` (a ``_fakes_process`` service)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.gateway: FakeGateway | None = None
        self.mj: TimedMidjourney | None = None
        self.submitted_at: dict[str, float] = {}
        """Prompt → ``time.monotonic()`` of its imagine submit."""

    async def start(self) -> dict[str, Any]:
        self.gateway = FakeGateway(record=False)
        self.mj = TimedMidjourney(self.gateway, self.plan)
        await self.gateway.start()
        return {"url": self.gateway.url}

    async def stats(self) -> dict[str, Any]:
        """Requests by route, poll times (fake s) and durations per task, batch sizes."""
        mj = self.mj
        assert mj is not None
        return {"requests": dict(mj.requests_by_route), "created": dict(mj.created),
                "durations": dict(mj.durations), "polls": dict(mj.poll_times),
                "success_seen": dict(mj.success_seen),
                "success_seen_real": dict(mj.success_seen_real),
                "batch_sizes": list(mj.batch_sizes),
                "rss_mb": peak_rss_mb()}

    async def stop(self) -> None:
        if self.gateway is not None:
            await self.gateway.stop()
            self.gateway = None


def _caption(call: Any) -> str:
    """The caption of a sendPhoto / editMessageMedia call (the task's prompt)."""
    media = call.params.get("media")
    return str((media if isinstance(media, dict) else call.params).get("caption") or "")


def group_id(index: int) -> int:
    """The chat id of benchmark group ``index``."""
    return -1_001_000_000 - index


def user_id(group: int, user: int) -> int:
    return 50_000 + group * 100 + user


def prompt_of(group: int, user: int) -> str:
    return f"a lighthouse at dusk, group {group} user {user} --ar 3:2"


class GroupsSide:
    """The fake Bot API and the users of ``groups`` groups × ``users`` users."""

    def __init__(self, groups: int, users: int) -> None:
        self.groups = groups
        self.users = users
        self.tg: FakeTelegram | None = None
        self.asked_at = 0.0

    async def start(self) -> dict[str, Any]:
        tg = FakeTelegram()
        await tg.start()
        tg.limits = FloodLimits(limited_methods=MESSAGE_METHODS)
        self.tg = tg
        return {"url": tg.url, "token": tg.token}

    def _results(self, chat: int) -> int:
        assert self.tg is not None
        return sum(1 for m in self.tg.bot_messages(chat)
                   if m.photo and "U1" in str(m.reply_markup or ""))

    async def run(self, timeout: float) -> dict[str, Any]:
        """Every user sends ``/mj`` at once; returns when every group shows its ``users``
        results (or at ``timeout`` real seconds): asked-at (monotonic) and elapsed s."""
        tg = self.tg
        assert tg is not None
        chats = [tg.group_chat(group_id(g), title=f"Group {g}") for g in range(self.groups)]
        for user in range(self.users):  # interleaved: every group gets its first /mj first
            for g, chat in enumerate(chats):
                tg.user(user_id(g, user), f"User{g}-{user}")
                tg.command(chat, user_id(g, user), f"/mj {prompt_of(g, user)}")
        self.asked_at = started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if all(self._results(chat.id) >= self.users for chat in chats):
                break
            await asyncio.sleep(0.1)
        return {"asked_at": started, "elapsed": time.monotonic() - started}

    async def summary(self) -> dict[str, Any]:
        """Call counts by method, 429s, per-group results/edits, result times."""
        tg = self.tg
        assert tg is not None
        calls = [c for c in tg.calls if c.method not in SETUP_METHODS]
        by_method = Counter(c.method for c in calls)
        groups = []
        for g in range(self.groups):
            messages = tg.bot_messages(group_id(g))
            groups.append({"results": self._results(group_id(g)),
                           "messages": len(messages),
                           "stale": sum(1 for m in messages if not m.text.startswith(
                               REPLY_PREFIX) and not (m.photo and "U1" in str(m.reply_markup))),
                           "edits": [m.edits for m in messages],
                           "texts": [m.text[:80] for m in messages]})
        result_at = {_caption(c): c.at for c in calls if c.status == 200
                     and c.method in ("editMessageMedia", "sendPhoto")
                     and "U1" in str(c.params.get("reply_markup") or "")}
        return {"by_method": dict(by_method), "flood_errors": tg.flood_errors,
                "asked_at": self.asked_at,
                "inside_window": sum(tg.calls_inside_retry_window.values()),
                "errors": dict(Counter(f"{c.method} {c.status}" for c in calls
                                       if c.status not in (200, 429))),
                "groups": groups, "result_at": result_at, "rss_mb": peak_rss_mb(),
                "timeline": [(round(c.at - self.asked_at, 2), c.method, c.status,
                              str(c.params.get("text") or _caption(c))[:50])
                             for c in calls if c.params.get("chat_id") in (group_id(0),
                                                                           str(group_id(0)))]}

    async def stop(self) -> None:
        if self.tg is not None:
            await self.tg.stop()
            self.tg = None
