"""A fake Telegram Bot API server that the real aiogram ``Bot`` talks to over HTTP.

Usage::

    fake = FakeTelegram()
    await fake.start()
    bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.url)))
    chat = fake.private_chat(user_id=42)
    fake.user_sends(chat, 42, "hi")
    await fake.wait_until(lambda: fake.bot_messages(42))
    await fake.stop()

See docs/FAKES.md for the interface shared with the adapter tests. The user side lives in
:mod:`tests.fakes.telegram_world`, Bot API methods in :mod:`tests.fakes.telegram_methods`
and Telegram's rules (lengths, entities, flood limits) in :mod:`tests.fakes.telegram_rules`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.telegram_methods import Files, Params
from tests.fakes.telegram_methods_extra import TelegramMediaMethods
from tests.fakes.telegram_models import (
    ApiCall,
    DraftCall,
    FakeChat,
    FakeUser,
    SentMessage,
    StoredFile,
)
from tests.fakes.telegram_rules import ApiError, FloodLimits, split_like_client, utf16_len

__all__ = [
    "ApiCall",
    "ApiError",
    "DraftCall",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "FloodLimits",
    "SentMessage",
    "StoredFile",
    "split_like_client",
    "utf16_len",
]

# Fields whose form values are plain strings even when they look like JSON.
_STRING_FIELDS = frozenset({
    "text", "caption", "parse_mode", "callback_query_id", "file_id", "language_code",
    "action", "url", "secret_token", "description", "short_description", "name", "emoji",
    "business_connection_id", "message_effect_id", "inline_message_id", "ip_address",
    "certificate",
})


def _decode_field(name: str, value: str) -> Any:
    if name in _STRING_FIELDS or value.startswith("attach://"):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], Files]:
    """Parse a multipart/form-data body as aiohttp's FormData writes it."""
    boundary = ""
    for piece in content_type.split(";"):
        key, _, value = piece.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    fields: dict[str, str] = {}
    files: Files = {}
    delimiter = b"--" + boundary.encode()
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.partition(b"\r\n\r\n")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        name, filename = "", None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition:"):
                for item in line.split(";")[1:]:
                    key, _, value = item.strip().partition("=")
                    value = value.strip('"')
                    if key == "name":
                        name = value
                    elif key == "filename":
                        filename = value
        if filename is not None:
            files[name] = (filename, content)
        else:
            fields[name] = content.decode("utf-8")
    return fields, files


class FakeTelegram(TelegramMediaMethods):
    """Fake Bot API on 127.0.0.1: records every call and enforces Telegram's rules."""

    def __init__(self, token: str = "123456:TEST-TOKEN", bot_id: int = 1000,
                 bot_username: str = "chatbridge_bot") -> None:
        super().__init__(token, bot_id, bot_username)
        self.calls: list[ApiCall] = []
        self.flood_errors = 0
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._started = 0.0

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> FakeTelegram:
        """Bind a random free port on 127.0.0.1 and start serving; sets ``url``."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._on_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._on_file)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                     shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(self._runner, sock)
        await site.start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._started = time.monotonic()
        return self

    async def stop(self) -> None:
        """Wake pending long polls (they answer ``[]``) and shut the server down."""
        self.closing = True
        self._update_event.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ HTTP
    async def _on_api(self, request: web.Request) -> web.Response:
        raw = await request.read()
        method = request.match_info["method"]
        call = ApiCall(method=method, params={}, at=time.monotonic(), raw=raw,
                       path=request.path)
        self.calls.append(call)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            params, files = self._parse(request, raw)
            call.params, call.files = params, files
            handler = self.handler_for(method)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params, files)
        except ApiError as error:
            call.status, call.description = error.status, error.description
            if error.status == 429:
                self.flood_errors += 1
            return web.Response(status=error.status, text=json.dumps(error.payload()),
                                content_type="application/json")
        return web.Response(text=json.dumps({"ok": True, "result": result}),
                            content_type="application/json")

    @staticmethod
    def _parse(request: web.Request, raw: bytes) -> tuple[Params, Files]:
        content_type = request.headers.get("Content-Type", "")
        files: Files = {}
        if content_type.startswith("multipart/form-data"):
            fields, files = _parse_multipart(raw, content_type)
        elif content_type.startswith("application/json"):
            loaded = json.loads(raw or b"{}")
            return (loaded if isinstance(loaded, dict) else {}), files
        else:
            fields = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        fields.update({k: v for k, v in request.query.items() if k not in fields})
        return {name: _decode_field(name, value) for name, value in fields.items()}, files

    async def _on_file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        stored = self.files_by_path.get(path)
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404,
                                      "description": "Not Found"}, status=404)
        self.file_downloads.append(path)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # ------------------------------------------------------------------ observing
    def calls_of(self, method: str) -> list[ApiCall]:
        """Recorded calls of one method (case-insensitive)."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def bot_messages(self, chat_id: int | FakeChat,
                     thread_id: int | None = None) -> list[SentMessage]:
        """Visible bot messages of a chat in order (edits applied, deleted ones gone).

        ``thread_id=None`` means every thread; otherwise only that forum topic. The objects
        are live: later edits show up in them.
        """
        key = chat_id.id if isinstance(chat_id, FakeChat) else chat_id
        messages = list(self.sent.get(key, {}).values())
        if thread_id is not None:
            messages = [m for m in messages if m.thread_id == thread_id]
        return messages

    def drafts(self, chat_id: int | FakeChat) -> list[DraftCall]:
        """Accepted sendMessageDraft calls for a chat, in order."""
        key = chat_id.id if isinstance(chat_id, FakeChat) else chat_id
        return [draft for draft in self.draft_calls if draft.chat_id == key]

    def dump(self, last: int = 40) -> str:
        """Readable dump of the transcript and the last ``last`` calls (for failures)."""
        lines = ["--- transcript ---", *self.transcript[-last:],
                 f"--- last {last} of {len(self.calls)} calls (t0={self._started:.3f}) ---"]
        lines += [call.short() for call in self.calls[-last:]]
        if self.updates:
            lines.append(f"--- {len(self.updates)} updates not yet fetched by the bot ---")
        return "\n".join(lines)

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0,
                         message: str = "") -> Any:
        """Poll ``predicate()`` (sync or async) every 10 ms until truthy; return its value.

        On timeout raise AssertionError with :meth:`dump` so transcript tests are debuggable.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            if time.monotonic() >= deadline:
                what = message or getattr(predicate, "__name__", "predicate")
                raise AssertionError(f"wait_until timed out after {timeout}s: {what}\n"
                                     f"{self.dump()}")
            await asyncio.sleep(0.01)
