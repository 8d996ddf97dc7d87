"""``FakeGateway``: an OpenAI-compatible gateway on 127.0.0.1 for tests and benchmarks.

A real aiohttp server.  Requests go through one dispatcher that records them
(``requests``), pops the next scripted reply of the matched route (``script``), renders
HTTP faults (429/5xx/hang/any status) for every route, and otherwise calls the route
handler.  Adding an API (images, audio, ``/mj/...``) is a ``route()`` call, e.g. in a
sibling module::

    def install_midjourney(fake: FakeGateway) -> None:
        fake.route("POST", "/mj/submit/imagine", handle_imagine)
        fake.route("GET", "/mj/task/{id}/fetch", handle_fetch)  # call.request.match_info

A handler is ``async (call: Call) -> web.StreamResponse``; ``call.request`` is the
recorded request, ``call.scripted`` the popped non-fault reply of its route (or
``None``), ``call.http`` the aiohttp request (to stream).  Routes can be added before
or after ``start()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

from tests.fakes.gateway_chat import echo_responder, render_chat
from tests.fakes.gateway_replies import (
    Hang,
    HttpError,
    HttpFault,
    RateLimit,
    Reply,
    ServerError,
    error_body,
)

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"

DEFAULT_MODELS = (
    "gpt-3.5-turbo",
    "gpt-4",
    "gpt-4-turbo-preview",
    "gpt-4-vision-preview",
    "qwen-turbo",
    "glm-4",
    "claude-3-haiku-20240229",
    "moonshot-v1-8k",
)


@dataclass(slots=True)
class RecordedRequest:
    """One request as the fake saw it; ``headers`` has lower-cased names."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    raw: bytes
    query: dict[str, str] = field(default_factory=dict)
    match_info: dict[str, str] = field(default_factory=dict)
    route: str = ""


@dataclass(frozen=True, slots=True)
class Call:
    """What a route handler gets: the fake, the recorded request, the scripted reply."""

    fake: FakeGateway
    request: RecordedRequest
    scripted: Reply | None
    http: web.Request


Handler = Callable[[Call], Awaitable[web.StreamResponse]]
Responder = Callable[[dict[str, Any]], Reply]


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: str
    regex: re.Pattern[str] | None
    handler: Handler


class FakeGateway:
    """Fake "all-model" gateway: ``/v1/models``, ``/v1/chat/completions`` (JSON and SSE).

    ``script(*replies)`` queues replies (FIFO) for the chat route (or ``route=``);
    with an empty queue ``responder(request_json)`` answers (default: ``echo: <last
    user text>``).  Use ``async with FakeGateway() as fake`` or ``start()``/``stop()``.
    """

    def __init__(self, *, models: list[str] | None = None, record: bool = True) -> None:
        self.models: list[str] = list(models if models is not None else DEFAULT_MODELS)
        self.responder: Responder = echo_responder
        self.requests: list[RecordedRequest] = []
        self.record = record  # set False in long benchmarks to keep memory flat
        self.client_disconnects = 0  # handlers cut short because the client went away
        self.models_fault: HttpFault | None = None
        """When set, EVERY ``GET /v1/models`` answers with this fault (a switch, unlike a
        one-shot ``script``), e.g. ``HttpError(404, NOT_FOUND_PAGE, HTML)`` (a web site),
        ``HttpError(401, ...)``, ``ServerError()``.  A closed port: ``stop()``."""
        self._scripts: defaultdict[str, deque[Reply]] = defaultdict(deque)
        self._exact: dict[tuple[str, str], _Route] = {}
        self._patterned: list[_Route] = []
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._closing = asyncio.Event()
        self.route("GET", MODELS_PATH, self._handle_models)
        self.route("POST", CHAT_PATH, self._handle_chat)

    # -- configuration -------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Serve ``method pattern`` (``{name}`` segments land in ``req.match_info``)."""
        method = method.upper()
        if "{" not in pattern:
            self._exact[(method, pattern)] = _Route(method, pattern, None, handler)
            return
        regex = re.compile(
            "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern)) + "$"
        )
        self._patterned.append(_Route(method, pattern, regex, handler))

    def script(self, *replies: Reply, route: str = CHAT_PATH) -> None:
        """Queue ``replies`` for the next requests to ``route`` (a registered pattern)."""
        self._scripts[route].extend(replies)

    def pending(self, route: str = CHAT_PATH) -> int:
        """How many scripted replies of ``route`` are still unused."""
        return len(self._scripts[route])

    def reset(self) -> None:
        """Forget recorded requests and scripted replies; restore the echo responder."""
        self.requests.clear()
        self._scripts.clear()
        self.models_fault = None
        self.responder = echo_responder

    # -- inspection ----------------------------------------------------------------

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """Recorded requests for ``path`` (and ``method`` if given)."""
        return [
            r for r in self.requests
            if r.path == path and (method is None or r.method == method.upper())
        ]

    def chat_requests(self) -> list[dict[str, Any]]:
        """JSON bodies of the recorded chat completion requests."""
        return [r.json for r in self.requests_to(CHAT_PATH, "POST")]

    # -- lifecycle -----------------------------------------------------------------

    @property
    def url(self) -> str:
        """Site root, e.g. ``http://127.0.0.1:PORT`` (the SDK base is ``url + "/v1"``)."""
        if not self._port:
            raise RuntimeError("FakeGateway is not started")
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._closing = asyncio.Event()
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop serving; pending hangs and delays end at once."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def pause(self, seconds: float) -> None:
        """Sleep ``seconds``, cut short by ``stop()`` (for handlers' delays)."""
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    # -- dispatch ------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        found = self._match(request.method, request.path)
        if found is None:
            return web.json_response(error_body(f"no route {request.path}"), status=404)
        route, match_info = found
        raw = await request.read() if request.can_read_body else b""
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            json=_maybe_json(raw, request.content_type),
            raw=raw,
            query=dict(request.query),
            match_info=match_info,
            route=route.pattern,
        )
        if self.record:
            self.requests.append(recorded)
        queue = self._scripts.get(route.pattern)
        scripted = queue.popleft() if queue else None
        if isinstance(scripted, HttpError | RateLimit | ServerError | Hang):
            return await self._render_fault(scripted)
        try:
            return await route.handler(Call(self, recorded, scripted, request))
        except asyncio.CancelledError:  # aiohttp cancels the handler when the client leaves
            self.client_disconnects += 1
            raise
        except ConnectionResetError:  # ... or the next write finds the connection closed
            self.client_disconnects += 1
            return web.Response(status=499)

    def _match(self, method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
        route = self._exact.get((method, path))
        if route is not None:
            return route, {}
        for candidate in self._patterned:
            if candidate.method != method or candidate.regex is None:
                continue
            matched = candidate.regex.match(path)
            if matched:
                return candidate, matched.groupdict()
        return None

    async def _render_fault(self, fault: HttpFault) -> web.StreamResponse:
        if isinstance(fault, Hang):
            await self.pause(fault.seconds)
            return web.json_response(error_body("gateway timeout"), status=504)
        if isinstance(fault, RateLimit):
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            body = error_body("Rate limit reached, please retry later", "rate_limit_exceeded",
                              "rate_limit_error")
            return web.json_response(body, status=fault.status, headers=headers)
        if isinstance(fault, ServerError):
            return web.json_response(
                error_body(fault.message, None, "server_error"), status=fault.status
            )
        if isinstance(fault.body, str | bytes):
            return web.Response(body=fault.body, status=fault.status, headers=fault.headers)
        return web.json_response(fault.body, status=fault.status, headers=fault.headers)

    # -- built-in routes -------------------------------------------------------------

    async def _handle_models(self, call: Call) -> web.StreamResponse:
        if self.models_fault is not None:
            return await self._render_fault(self.models_fault)
        data = [
            {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "gateway"}
            for model in self.models
        ]
        return web.json_response({"object": "list", "data": data, "success": True})

    async def _handle_chat(self, call: Call) -> web.StreamResponse:
        body = call.request.json if isinstance(call.request.json, dict) else {}
        reply = call.scripted if call.scripted is not None else self.responder(body)
        if isinstance(reply, HttpError | RateLimit | ServerError | Hang):
            return await self._render_fault(reply)
        return await render_chat(call, body, reply)


NOT_FOUND_PAGE = "<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>"
"""What a web server (nginx, a landing page) answers for an unknown path."""
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _maybe_json(raw: bytes, content_type: str) -> Any:
    if not raw or "json" not in content_type:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
