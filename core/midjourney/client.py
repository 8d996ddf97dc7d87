"""``MjClient``: the Midjourney routes of the gateway (transport only).

Routes hang off the gateway's SITE ROOT (``GatewayClient.site_root``), not ``/v1``, and
go through the gateway's shared pooled HTTP client. Speed is chosen with a path prefix
(``/mj-fast``, ``/mj-relax``, ``/mj-turbo``) because gateways may strip ``--fast`` from
prompts. Wire contract: /work/shared/reference/midjourney-api.md (with its addendum).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from core.errors import GatewayError, QuotaExceeded, Unavailable
from core.gateway.client import GatewayClient
from core.gateway.errors import error_from_status, redact, translate
from core.midjourney.errors import (
    MjBannedPrompt,
    MjError,
    MjInvalid,
    MjNotFound,
    MjQueueFull,
    MjSystemFailure,
    MjUnavailable,
    MjUnsupportedButton,
)

Speed = Literal["", "fast", "relax", "turbo"]
SubmitKind = Literal["submitted", "queued", "modal"]
_QUEUE_TEXT = re.compile(r"(?:前面还有|ahead[^0-9]*|queue[^0-9]*)(\d+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """A submit the gateway accepted.

    ``kind``: ``submitted`` (code 1), ``queued`` (code 22, or code 1 whose description or
    ``properties.numberOfQueues`` tells a position: new-api rewrites 22 → 1), ``modal``
    (code 21 "Waiting for window confirm", or code 1 with "confirm" in the description or
    ``properties.remix`` — new-api rewrites 21 → 1 except for Vary Region / Custom Zoom).
    ``position`` is the number of tasks ahead (0 when unknown or not queued);
    ``task_id`` the task to track (for a modal: the MODAL task to send ``modal`` to)."""

    kind: SubmitKind
    task_id: str
    position: int = 0
    description: str = ""
    properties: dict[str, Any] = field(default_factory=dict)


def parse_submit(body: Any) -> SubmitResult:
    """Interpret a submit answer ``{"code", "description", "result", "properties"}``.

    Raises ``MjQueueFull`` (23), ``MjBannedPrompt`` (24, params ``word`` and
    ``prompt_en``), ``MjNotFound`` (3), ``MjInvalid`` (4), ``MjSystemFailure`` (9, any
    other code, or a body without a task id)."""
    if not isinstance(body, dict):
        raise MjSystemFailure("not a JSON object", detail="malformed answer")
    code = body.get("code")
    description = str(body.get("description") or "").strip()
    raw_props = body.get("properties")
    props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
    result = str(body.get("result") or "")
    if code == 23:
        raise MjQueueFull(description, detail=description)
    if code == 24:
        raise MjBannedPrompt(description, word=str(props.get("bannedWord") or ""),
                             prompt_en=str(props.get("promptEn") or ""), detail=description)
    if code == 3:
        raise MjNotFound(description, detail=description)
    if code == 4:
        raise MjInvalid(description, detail=description)
    if code not in (1, 21, 22) or not result:
        raise MjSystemFailure(description, detail=description or f"code {code}")
    position = _queue_position(props, description)
    if code == 21 and props.get("status") and props.get("status") != "MODAL" and (
            "confirm" not in description.lower()):
        # open-proxy edition: 21 = "task already exists" (its result is the old task)
        return SubmitResult("submitted", result, 0, description, props)
    if code == 21 or "confirm" in description.lower() or bool(props.get("remix")):
        return SubmitResult("modal", result, 0, description, props)
    if code == 22 or position:
        return SubmitResult("queued", result, position, description, props)
    return SubmitResult("submitted", result, 0, description, props)


def _queue_position(props: dict[str, Any], description: str) -> int:
    number = props.get("numberOfQueues")
    if isinstance(number, int | str) and str(number).isdigit():
        return int(number)
    matched = _QUEUE_TEXT.search(description)
    return int(matched.group(1)) if matched else 0


def mj_error(status: int, body: Any, secret: str = "") -> GatewayError:
    """The typed error of a non-2xx answer (a new-api style ``upstream_error`` body).

    A 404 that names no missing task (an OpenAI-style ``{"error": ...}`` body, an HTML
    page, plain text) means the gateway has no Midjourney routes: ``MjUnavailable``."""
    if status == 404 and not isinstance(body, dict):
        return MjUnavailable(redact(str(body)[:200], secret), detail="")
    if status in (401, 403, 429) or status >= 500 or not isinstance(body, dict):
        return error_from_status(status, body, secret=secret)
    description = redact(str(body.get("description") or body.get("message") or ""), secret)
    text = f"{description} {body.get('code', '')}".strip()
    lowered = text.lower()
    if "quota" in lowered:
        return QuotaExceeded(text, detail=description.strip())
    if "unknown_action" in lowered:
        return MjUnsupportedButton(text, detail=description.strip())
    if "not_found" in lowered or "no_found" in lowered or body.get("code") == 3:
        return MjNotFound(text, detail=description.strip())
    if status == 404:  # no task-not-found code: the route itself is missing
        return MjUnavailable(text, detail=description.strip())
    if body.get("code") == 4 or "upstream_error" in str(body.get("type", "")):
        return MjInvalid(text, detail=description.strip())
    return error_from_status(status, body, secret=secret)


class MjClient:
    """Midjourney calls on the gateway's shared client; every failure is typed.

    ``speed`` is the default path prefix ("" = the gateway's default mode).
    Submits return ``SubmitResult``; ``fetch``/``list_tasks`` return task objects (dicts,
    see the reference's "Task object"); ``image`` returns bytes."""

    def __init__(self, gateway: GatewayClient, api_key: str, *, speed: Speed = "",
                 timeout: float = 60.0) -> None:
        self._gateway = gateway
        self._key = api_key
        self.speed: Speed = speed
        self._timeout = timeout

    def _url(self, path: str, speed: Speed | None) -> str:
        mode = self.speed if speed is None else speed
        prefix = f"/mj-{mode}" if mode else ""
        return f"{self._gateway.site_root}{prefix}{path}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}

    async def _request(self, method: str, path: str, body: Any = None,
                       speed: Speed | None = None) -> Any:
        url = self._url(path, speed if path.startswith("/mj/submit") or
                        path.startswith("/mj/insight") else "")
        try:
            response = await self._gateway.http.request(
                method, url, json=body, headers=self._headers(), timeout=self._timeout)
        except Exception as exc:
            error = translate(exc, secret=self._key)
            if error is None:
                raise
            raise error from None
        try:
            data = response.json()
        except ValueError:
            data = response.text
        if response.status_code >= 400:
            raise mj_error(response.status_code, data, self._key)
        return data

    async def _submit(self, path: str, body: dict[str, Any], speed: Speed | None) -> SubmitResult:
        return parse_submit(await self._request("POST", path, body, speed))

    async def imagine(self, prompt: str, *, bot_type: str = "MID_JOURNEY",
                      images: Sequence[str] = (), speed: Speed | None = None) -> SubmitResult:
        """``/mj/submit/imagine``; ``images`` are data URLs (reference images)."""
        body: dict[str, Any] = {"prompt": prompt, "botType": bot_type}
        if images:
            body["base64Array"] = list(images)
        return await self._submit("/mj/submit/imagine", body, speed)

    async def action(self, task_id: str, custom_id: str, *,
                     speed: Speed | None = None) -> SubmitResult:
        """``/mj/submit/action``: press the button ``custom_id`` of ``task_id``."""
        return await self._submit("/mj/submit/action",
                                  {"taskId": task_id, "customId": custom_id}, speed)

    async def modal(self, task_id: str, prompt: str, *, mask: str | None = None,
                    speed: Speed | None = None) -> SubmitResult:
        """``/mj/submit/modal`` for a MODAL task; ``mask`` is a PNG data URL (Vary Region)."""
        body: dict[str, Any] = {"taskId": task_id, "prompt": prompt}
        if mask:
            body["maskBase64"] = mask
        return await self._submit("/mj/submit/modal", body, speed)

    async def blend(self, images: Sequence[str], dimensions: str, *,
                    bot_type: str = "MID_JOURNEY", speed: Speed | None = None) -> SubmitResult:
        """``/mj/submit/blend``: 2-5 data URLs, ``PORTRAIT``|``SQUARE``|``LANDSCAPE``."""
        return await self._submit("/mj/submit/blend", {
            "base64Array": list(images), "dimensions": dimensions, "botType": bot_type}, speed)

    async def describe(self, image: str, *, bot_type: str = "MID_JOURNEY",
                       speed: Speed | None = None) -> SubmitResult:
        """``/mj/submit/describe`` of one data URL."""
        return await self._submit("/mj/submit/describe",
                                  {"base64": image, "botType": bot_type}, speed)

    async def shorten(self, prompt: str, *, bot_type: str = "MID_JOURNEY",
                      speed: Speed | None = None) -> SubmitResult:
        """``/mj/submit/shorten``."""
        return await self._submit("/mj/submit/shorten",
                                  {"prompt": prompt, "botType": bot_type}, speed)

    async def swap_face(self, face: str, target: str, *,
                        speed: Speed | None = None) -> SubmitResult:
        """``/mj/insight-face/swap``: ``face`` (source) onto ``target`` (data URLs)."""
        return await self._submit("/mj/insight-face/swap",
                                  {"sourceBase64": face, "targetBase64": target}, speed)

    async def fetch(self, task_id: str) -> dict[str, Any]:
        """``GET /mj/task/{id}/fetch`` → the task object; ``MjNotFound`` if unknown."""
        data = await self._request("GET", f"/mj/task/{task_id}/fetch")
        if not isinstance(data, dict) or not data:
            raise MjNotFound("empty task", detail=task_id)
        return data

    async def list_tasks(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """``POST /mj/task/list-by-condition`` ``{"ids": [...]}`` → task objects (one request
        for several tasks; unknown ids are left out)."""
        data = await self._request("POST", "/mj/task/list-by-condition", {"ids": list(ids)})
        if not isinstance(data, list):
            raise Unavailable("list-by-condition did not answer a list")
        return [item for item in data if isinstance(item, dict)]

    async def image_seed(self, task_id: str) -> str:
        """``GET /mj/task/{id}/image-seed`` → the seed (``MjInvalid`` when the task has none)."""
        data = await self._request("GET", f"/mj/task/{task_id}/image-seed")
        if not isinstance(data, dict) or data.get("code") != 1 or not data.get("result"):
            description = str(data.get("description", "")) if isinstance(data, dict) else ""
            raise MjInvalid(description, detail=description or "no seed")
        return str(data["result"])

    async def image(self, url: str, *, max_bytes: int = 64 * 1024 * 1024) -> bytes:
        """The bytes at ``url`` exactly as the gateway returned it (signed URLs must not be
        rebuilt). The API key is sent only to the gateway's own origin."""
        headers = self._headers() if _same_origin(url, self._gateway.site_root) else {}
        try:
            response = await self._gateway.http.get(url, headers=headers, timeout=self._timeout)
            response.raise_for_status()
        except Exception as exc:
            error = translate(exc, secret=self._key)
            if error is None:
                raise
            raise error from None
        if len(response.content) > max_bytes:
            raise MjError("image too large", detail=f"{len(response.content)} bytes")
        return response.content


def _same_origin(url: str, root: str) -> bool:
    a, b = urlsplit(url), urlsplit(root)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


