"""Midjourney routes on the fake gateway (``install_midjourney(fake) -> FakeMidjourney``).

Follows /work/shared/reference/midjourney-api.md (midjourney-proxy Plus API as relayed
by new-api): submit codes 1/21/22/23/24/3/4, task objects advancing one step per poll
(``""`` → SUBMITTED → IN_PROGRESS 30 % with a preview → IN_PROGRESS 70 % → SUCCESS),
button sets of the reference, ``list-by-condition``, ``image-seed``, describe/shorten
results, insight-face swap (identical images refused), new-api style errors (HTTP 400
``{"description", "type": "upstream_error", "code"}``). Every route also answers under
the speed prefixes ``/mj-fast``, ``/mj-relax``, ``/mj-turbo``.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.gateway import Call, FakeGateway
from tests.fakes.gateway_mj_images import color_of, image_url, noise_png, png, signature

PREFIXES = ("", "/mj-fast", "/mj-relax", "/mj-turbo")
STEPS: tuple[tuple[str, str], ...] = (("", "0%"), ("SUBMITTED", "0%"), ("IN_PROGRESS", "30%"),
                                      ("IN_PROGRESS", "70%"), ("SUCCESS", "100%"))
FAIL_STEPS = (("", "0%"), ("SUBMITTED", "0%"), ("IN_PROGRESS", "30%"), ("FAILURE", "100%"))
STUCK_STEPS = (("", "0%"), ("SUBMITTED", "0%"))
GRID_ACTIONS = {"IMAGINE", "VARIATION", "LOW_VARIATION", "HIGH_VARIATION", "REROLL", "BLEND",
                "ZOOM", "CUSTOM_ZOOM", "PAN", "INPAINT"}
_DATA_URL = re.compile(r"^data:image/[a-z]+;base64,[A-Za-z0-9+/=]+$")
_ids = itertools.count(1730621826053455)


@dataclass
class FakeTask:
    """One task; ``steps`` are the (status, progress) it shows on successive polls."""

    id: str
    action: str
    prompt: str = ""
    steps: tuple[tuple[str, str], ...] = STEPS
    polls: int = 0
    mode: str = ""
    parent: str = ""
    modal_action: str = ""
    fail_reason: str = ""
    hash: str = ""
    bot_type: str = "MID_JOURNEY"
    body: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)


def _grid(h: str) -> list[dict[str, Any]]:
    buttons = [{"customId": f"MJ::JOB::upsample::{n}::{h}", "emoji": "", "label": f"U{n}"}
               for n in range(1, 5)]
    buttons.append({"customId": f"MJ::JOB::reroll::0::{h}::SOLO", "emoji": "🔄", "label": ""})
    buttons += [{"customId": f"MJ::JOB::variation::{n}::{h}", "emoji": "", "label": f"V{n}"}
                for n in range(1, 5)]
    return buttons


def _upscaled(h: str) -> list[dict[str, Any]]:
    ids = [f"MJ::JOB::upsample_v6_2x_subtle::1::{h}::SOLO",
           f"MJ::JOB::upsample_v6_2x_creative::1::{h}::SOLO",
           f"MJ::JOB::low_variation::1::{h}::SOLO", f"MJ::JOB::high_variation::1::{h}::SOLO",
           f"MJ::Inpaint::1::{h}::SOLO", f"MJ::Outpaint::50::1::{h}::SOLO",
           f"MJ::Outpaint::75::1::{h}::SOLO", f"MJ::CustomZoom::{h}",
           f"MJ::JOB::pan_left::1::{h}::SOLO", f"MJ::JOB::pan_right::1::{h}::SOLO",
           f"MJ::JOB::pan_up::1::{h}::SOLO", f"MJ::JOB::pan_down::1::{h}::SOLO",
           f"MJ::BOOKMARK::{h}"]
    # upscale buttons carry a custom-emoji NAME, the bookmark a heart: never rendered
    return [{"customId": c, "emoji": "upscale_1" if "upsample" in c else "❤️" if "BOOKMARK"
             in c else "", "label": ""} for c in ids]


class FakeMidjourney:
    """State and switches of the fake Midjourney routes (see the module docstring)."""

    def __init__(self, fake: FakeGateway) -> None:
        self.fake = fake
        self.tasks: dict[str, FakeTask] = {}
        self.banned = {"gore": "gore"}
        self.queue_full = False
        self.queued_ahead = 0
        """> 0: submits answer code 22 with ``numberOfQueues`` and a Chinese description."""
        self.rewrite_22 = False
        """new-api style: 22 → 1 (description and properties kept)."""
        self.rewrite_21 = "none"
        """"new-api": 21 → 1 except INPAINT / CUSTOM_ZOOM (new-api's rule); "all": every 21
        (strict variant); "none": real proxy codes."""
        self.remix = False
        """Remix on: variation, reroll and pan also answer with a modal (code 21)."""
        self.fail_next = ""
        """A failReason: the next created task ends in FAILURE with it."""
        self.stuck = False
        """New tasks never leave SUBMITTED (a prompt Midjourney silently rejected)."""
        self.big_results = False
        """Final images are ~12 MB (over Telegram's 10 MB photo limit)."""
        self.has_list_route = True
        self.image_root = ""
        """Serve ``imageUrl``s from another origin (a CDN), e.g. a second fake sharing
        ``tasks``; "" = this gateway."""
        self.previews = True
        """False: IN_PROGRESS tasks carry no ``imageUrl`` (no preview image yet, as
        gateways answer before Midjourney sent one)."""
        self.on_poll: Callable[[dict[str, Any]], None] | None = None
        """Called with each task object a poll returns (a test pauses time at a state)."""
        self.polls: Counter[str] = Counter()
        self.image_requests: list[tuple[str, dict[str, str]]] = []
        for prefix in PREFIXES:
            for name in ("imagine", "action", "modal", "blend", "describe", "shorten"):
                fake.route("POST", f"{prefix}/mj/submit/{name}", getattr(self, f"_{name}"))
            fake.route("POST", f"{prefix}/mj/insight-face/swap", self._swap)
            fake.route("GET", f"{prefix}/mj/task/{{id}}/fetch", self._fetch)
            fake.route("GET", f"{prefix}/mj/task/{{id}}/image-seed", self._seed)
            fake.route("POST", f"{prefix}/mj/task/list-by-condition", self._list)
        fake.route("GET", "/mj/image/{id}", self._image)

    # --- inspection -----------------------------------------------------------------
    def submits(self, name: str = "") -> list[tuple[str, dict[str, Any]]]:
        """``(path, json)`` of the recorded submits (``name``: e.g. "imagine")."""
        return [(r.path, r.json) for r in self.fake.requests
                if ("/submit/" in r.path and r.path.endswith(name)) or
                (name in ("", "swap") and r.path.endswith("/insight-face/swap"))]

    def poll_requests(self) -> list[str]:
        """Paths of fetch and list-by-condition requests, in order."""
        return [r.path for r in self.fake.requests
                if r.path.endswith("/fetch") or r.path.endswith("/list-by-condition")]

    # --- helpers --------------------------------------------------------------------
    @staticmethod
    def _answer(code: int, description: str, result: str = "",
                properties: dict[str, Any] | None = None) -> web.Response:
        return web.json_response({"code": code, "description": description,
                                  "result": result, "properties": properties or {}})

    @staticmethod
    def _gateway_error(description: str, code: int = 4, status: int = 400) -> web.Response:
        # new-api: "<desc> <result>" with a trailing space, type upstream_error
        return web.json_response({"description": f"{description} ", "type": "upstream_error",
                                  "code": code}, status=status)

    def _auth_failed(self, call: Call) -> bool:
        return not (call.request.headers.get("authorization", "").startswith("Bearer ")
                    or call.request.headers.get("mj-api-secret"))

    def _new(self, call: Call, action: str, prompt: str = "", **extra: Any) -> FakeTask:
        task_id = str(next(_ids))
        steps = (FAIL_STEPS if self.fail_next else STUCK_STEPS if self.stuck else STEPS)
        mode = call.request.path.split("/mj/")[0].removeprefix("/mj-")
        task = FakeTask(task_id, action, prompt, steps=steps, mode=mode,
                        fail_reason=self.fail_next, hash=f"{task_id[-8:]}-4f70-9128",
                        body=dict(call.request.json or {}), **extra)
        self.fail_next = ""
        self.tasks[task_id] = task
        return task

    def _accepted(self, task: FakeTask) -> web.Response:
        if self.queued_ahead:
            text = f"排队中，前面还有{self.queued_ahead}个任务"
            code = 1 if self.rewrite_22 else 22
            return self._answer(code, text, task.id, {"numberOfQueues": self.queued_ahead})
        return self._answer(1, "Submit success", task.id)

    def _refusal(self, prompt: str) -> web.Response | None:
        if self.queue_full:
            return self._answer(23, "队列已满，请稍后尝试")
        for word in self.banned:
            if word in prompt.lower():
                return self._answer(24, "可能包含敏感词", "",
                                    {"promptEn": prompt, "bannedWord": word})
        return None

    # --- submits --------------------------------------------------------------------
    async def _imagine(self, call: Call) -> web.StreamResponse:
        if self._auth_failed(call):
            return web.json_response({"error": {"message": "invalid token"}}, status=401)
        body = call.request.json or {}
        prompt = str(body.get("prompt") or "").strip()
        if not prompt:
            return self._answer(4, "prompt不能为空")
        if any(not _DATA_URL.match(str(u)) for u in body.get("base64Array") or ()):
            return self._answer(4, "base64格式错误")
        refused = self._refusal(prompt)
        if refused is not None:
            return refused
        return self._accepted(self._new(call, "IMAGINE", prompt,
                                        bot_type=str(body.get("botType") or "MID_JOURNEY")))

    async def _action(self, call: Call) -> web.StreamResponse:
        body = call.request.json or {}
        parent = self.tasks.get(str(body.get("taskId")))
        custom = str(body.get("customId") or "")
        if parent is None:
            return self._gateway_error("task_not_found")
        if custom not in [b["customId"] for b in self._buttons(parent)]:
            return self._answer(4, "customId无效")
        if not re.match(r"MJ::(JOB::(upsample|variation|low_variation|high_variation|reroll|"
                        r"pan_)|Outpaint|CustomZoom|Inpaint)", custom):
            return self._gateway_error(f"unknown_action:{custom}")
        action = _action_of(custom)
        if action in ("CUSTOM_ZOOM", "INPAINT") or (
                self.remix and action in ("VARIATION", "REROLL", "PAN")):
            modal = self._new(call, "MODAL", parent.prompt, parent=parent.id,
                              modal_action=action)
            modal.steps = (("MODAL", "0%"),)
            final = parent.prompt + (" --zoom 2" if action == "CUSTOM_ZOOM" else "")
            rewrite = self.rewrite_21 == "all" or (
                self.rewrite_21 == "new-api" and action not in ("CUSTOM_ZOOM", "INPAINT"))
            return self._answer(1 if rewrite else 21, "Waiting for window confirm", modal.id,
                                {"finalPrompt": final, "remix": True})
        return self._accepted(self._new(call, action, parent.prompt, parent=parent.id))

    async def _modal(self, call: Call) -> web.StreamResponse:
        body = call.request.json or {}
        task = self.tasks.get(str(body.get("taskId")))
        if task is None or task.action != "MODAL":
            return self._answer(4, "task is not waiting for a modal")
        prompt = str(body.get("prompt") or "")
        mask = body.get("maskBase64")
        if task.modal_action == "INPAINT" and not (mask and _DATA_URL.match(str(mask))):
            return self._answer(4, "maskBase64 required")
        if task.modal_action == "CUSTOM_ZOOM" and "--zoom" not in prompt:
            return self._answer(4, "--zoom required")  # invented strictness of the fake
        task.action, task.prompt, task.polls = task.modal_action, prompt, 0
        task.steps, task.body = STEPS, dict(body)
        return self._accepted(task)

    async def _blend(self, call: Call) -> web.StreamResponse:
        body = call.request.json or {}
        images = list(body.get("base64Array") or ())
        if not 2 <= len(images) <= 5 or any(not _DATA_URL.match(str(u)) for u in images):
            return self._answer(4, "base64Array需要2-5张图片")
        if body.get("dimensions") not in ("PORTRAIT", "SQUARE", "LANDSCAPE"):
            return self._answer(4, "dimensions参数错误")
        return self._accepted(self._new(call, "BLEND", ""))

    async def _describe(self, call: Call) -> web.StreamResponse:
        body = call.request.json or {}
        if not _DATA_URL.match(str(body.get("base64") or "")):
            return self._answer(4, "base64格式错误")
        lines = ["a red fox in the snow, watercolor --ar 1:1",
                 "fox portrait, soft light --ar 1:1", "winter forest animal, ink --ar 1:1",
                 "cute orange fox, studio ghibli style --ar 1:1"]
        text = "\n\n".join(f"{n}\ufe0f\u20e3 {line}" for n, line in enumerate(lines, 1))
        return self._accepted(self._new(call, "DESCRIBE", "",
                                        properties={"finalPrompt": text}))

    async def _shorten(self, call: Call) -> web.StreamResponse:
        prompt = str((call.request.json or {}).get("prompt") or "").strip()
        if not prompt:
            return self._answer(4, "prompt不能为空")
        words = prompt.split()
        shortened = [" ".join(words[:n]) for n in (5, 4, 3, 2, 1)]
        text = ("**IMPORTANT TOKENS**\n" + " ".join(words) + "\n**Shortened prompts**\n" +
                "\n".join(f"{n}\ufe0f\u20e3 {s}" for n, s in enumerate(shortened, 1)))
        return self._accepted(self._new(call, "SHORTEN", prompt,
                                        properties={"description": text}))

    async def _swap(self, call: Call) -> web.StreamResponse:
        body = call.request.json or {}
        source, target = str(body.get("sourceBase64") or ""), str(body.get("targetBase64") or "")
        if not (_DATA_URL.match(source) and _DATA_URL.match(target)):
            return self._answer(4, "sourceBase64和targetBase64不能为空")
        if source == target:
            return self._answer(4, "source and target images are identical")
        return self._accepted(self._new(call, "SWAP_FACE", ""))

    # --- tasks ----------------------------------------------------------------------
    def _buttons(self, task: FakeTask) -> list[dict[str, Any]]:
        if task.action in GRID_ACTIONS:
            return _grid(task.hash)
        if task.action == "UPSCALE":
            return _upscaled(task.hash)
        if task.action == "DESCRIBE":
            return [*({"customId": f"MJ::Job::PicReader::{n}", "emoji": "", "label": str(n)}
                      for n in range(1, 5)),
                    {"customId": "MJ::Picread::Retry", "emoji": "🔄�", "label": ""}]
        if task.action == "SHORTEN":
            return [{"customId": f"MJ::Job::PromptAnalyzer::{n}", "label": str(n)}
                    for n in range(1, 6)]
        return []

    def view(self, task: FakeTask, *, poll: bool) -> dict[str, Any]:
        """The task object (a poll advances it one step)."""
        status, progress = task.steps[min(task.polls, len(task.steps) - 1)]
        if poll:
            task.polls += 1
            self.polls[task.id] += 1
        root = self.image_root or self.fake.url
        url = ""
        if status == "IN_PROGRESS" and self.previews:
            url = image_url(root, task.id, progress.rstrip("%"))
        elif status == "SUCCESS" and task.action not in ("DESCRIBE", "SHORTEN"):
            url = image_url(root, task.id)
        props = {"finalPrompt": task.prompt, "finalZhPrompt": ""} | task.properties
        view = {"id": task.id, "action": task.action, "status": status, "progress": progress,
                "prompt": task.prompt, "promptEn": task.prompt,
                "description": props.pop("description", "Submit success"),
                "imageUrl": url, "failReason": task.fail_reason if status == "FAILURE" else "",
                "buttons": self._buttons(task) if status == "SUCCESS" else [],
                "submitTime": 1730621826053, "properties": props}
        if poll and self.on_poll is not None:
            self.on_poll(view)
        return view

    async def _fetch(self, call: Call) -> web.StreamResponse:
        task = self.tasks.get(call.request.match_info["id"])
        if task is None:
            return self._gateway_error("task_no_found")
        return web.json_response(self.view(task, poll=True))

    async def _list(self, call: Call) -> web.StreamResponse:
        if not self.has_list_route:
            return web.json_response({"error": "not found"}, status=404)
        ids = (call.request.json or {}).get("ids") or []
        return web.json_response([self.view(self.tasks[i], poll=True)
                                  for i in ids if i in self.tasks])

    async def _seed(self, call: Call) -> web.StreamResponse:
        task = self.tasks.get(call.request.match_info["id"])
        if task is None:
            return self._gateway_error("task_not_found", code=3, status=404)
        if task.action in ("SWAP_FACE", "DESCRIBE", "SHORTEN", "MODAL"):
            return self._gateway_error("task has no message hash")
        return web.json_response({"code": 1, "description": "成功", "result": task.id[-6:]})

    async def _image(self, call: Call) -> web.StreamResponse:
        image_id = call.request.match_info["id"]
        stage = call.request.query.get("stage", "")
        self.image_requests.append((call.request.path, dict(call.request.headers)))
        task = self.tasks.get(image_id)
        if task is None or call.request.query.get("sig") != signature(image_id, stage):
            return web.Response(status=403, text="forbidden")
        if stage != "final":
            return web.Response(body=png(16, 16, (128, 128, 128)), content_type="image/png")
        if self.big_results:
            return web.Response(body=noise_png(2048, 1800), content_type="image/png")
        size = (32, 32) if task.action == "UPSCALE" else (64, 48)
        return web.Response(body=png(*size, color_of(image_id)), content_type="image/png")


def _action_of(custom: str) -> str:
    for marker, action in (("upsample", "UPSCALE"), ("low_variation", "LOW_VARIATION"),
                           ("high_variation", "HIGH_VARIATION"), ("variation", "VARIATION"),
                           ("reroll", "REROLL"), ("pan_", "PAN"), ("Outpaint", "ZOOM"),
                           ("CustomZoom", "CUSTOM_ZOOM"), ("Inpaint", "INPAINT")):
        if marker in custom:
            return action
    return "ACTION"


def install_midjourney(fake: FakeGateway) -> FakeMidjourney:
    """Add the Midjourney routes to ``fake``; returns their state and switches."""
    return FakeMidjourney(fake)


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"
