"""Translate openai SDK / httpx2 failures into the typed errors of ``core.errors``.

Mapping (HTTP status first, then the error's ``code``/``type``/message text):

* 401/403 → ``AuthFailed``; 429 → ``RateLimited`` (``retry_after`` from Retry-After).
* Text/code naming a missing model (``model_not_found``, "does not exist", "无可用渠道",
  "not found" + "model") → ``UnknownModel`` — on any status, because one-api/new-api
  style gateways report "no channel for this model" as a 5xx.
* Context length (``context_length_exceeded``, "maximum context length", "too long")
  → ``ContextTooLong``; content filter ("content_filter", "sensitive", "敏感")
  → ``ContentRefused``.
* Other 4xx → ``BadRequest``; 408 and timeouts → ``GatewayTimeout``; 5xx, connection
  errors and unparsable bodies → ``Unavailable``.
* An ``{"error": ...}`` event inside a stream is classified by its text, else ``Unavailable``.

Malformed *stream* chunks are turned into ``StreamCut`` by the client (see ``client.py``).
Messages are redacted: the API key (and anything shaped like ``sk-…``) never appears.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import httpx2
import openai

from core.errors import (
    AuthFailed,
    BadRequest,
    ContentRefused,
    ContextTooLong,
    GatewayError,
    GatewayTimeout,
    RateLimited,
    StreamCut,
    Unavailable,
    UnknownModel,
)
from core.gateway.retry import parse_retry_after

_MAX_MESSAGE = 300
_KEY_LIKE = re.compile(r"(sk-|Bearer\s+)[A-Za-z0-9._\-]{4,}")

_CONTEXT_MARKERS = ("context_length_exceeded", "maximum context length", "context length",
                    "too long", "上下文")
_CONTENT_MARKERS = ("content_filter", "content_policy", "sensitive", "敏感")
_MODEL_MARKERS = ("model_not_found", "does not exist", "无可用渠道")


def redact(text: str, secret: str = "") -> str:
    """Remove ``secret`` and key-shaped tokens from ``text``."""
    if secret:
        text = text.replace(secret, "***")
    return _KEY_LIKE.sub(r"\1***", text)


def is_transient(error: GatewayError) -> bool:
    """Whether retrying the same request may succeed."""
    return type(error) in (RateLimited, Unavailable, GatewayTimeout, StreamCut)


def error_from_status(
    status: int | None,
    body: object,
    headers: Mapping[str, str] | None = None,
    *,
    secret: str = "",
) -> GatewayError:
    """Typed error for an HTTP error answer (``status=None``: an in-stream error event).

    ``body`` is the decoded JSON body (``{"error": {...}}`` or the inner object) or text.
    """
    message, code = _describe(body)
    text = f"{message} {code}".lower()
    where = f"gateway {status}" if status is not None else "gateway stream error"
    summary = redact(f"{where}: {message or code or 'no details'}", secret)[:_MAX_MESSAGE]

    if status in (401, 403):
        return AuthFailed(summary)
    if status == 429:
        return RateLimited(summary, retry_after=parse_retry_after(headers or {}))
    if any(marker in text for marker in _MODEL_MARKERS) or (
        "not found" in text and "model" in text
    ):
        return UnknownModel(summary)
    if any(marker in text for marker in _CONTEXT_MARKERS):
        return ContextTooLong(summary)
    if any(marker in text for marker in _CONTENT_MARKERS):
        return ContentRefused(summary)
    if status == 408:
        return GatewayTimeout(summary)
    if status is not None and 400 <= status < 500:
        detail = redact(message or code or f"HTTP {status}", secret)[:_MAX_MESSAGE]
        return BadRequest(summary, detail=detail)
    return Unavailable(summary)


def translate(exc: BaseException, *, secret: str = "") -> GatewayError | None:
    """Typed error for an SDK/httpx2 exception; ``None`` if ``exc`` is not a gateway failure."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, openai.APIStatusError):
        return error_from_status(exc.status_code, exc.body, exc.response.headers, secret=secret)
    if isinstance(exc, openai.APITimeoutError):
        return GatewayTimeout(f"gateway timed out ({_cause_name(exc)})")
    if isinstance(exc, openai.APIConnectionError):
        return Unavailable(f"gateway connection failed ({_cause_name(exc)})")
    if isinstance(exc, openai.APIResponseValidationError):
        return Unavailable(f"gateway answer did not match the schema (HTTP {exc.status_code})")
    if isinstance(exc, openai.APIError):
        return error_from_status(None, exc.body, secret=secret)
    if isinstance(exc, httpx2.HTTPStatusError):
        return error_from_status(
            exc.response.status_code, _decoded_body(exc.response), exc.response.headers,
            secret=secret,
        )
    if isinstance(exc, httpx2.TimeoutException):
        return GatewayTimeout(f"gateway timed out ({type(exc).__name__})")
    if isinstance(exc, httpx2.RequestError):
        return Unavailable(f"gateway connection failed ({type(exc).__name__})")
    if isinstance(exc, json.JSONDecodeError):
        return Unavailable("gateway sent malformed JSON")
    return None


def _describe(body: object) -> tuple[str, str]:
    """(message, code-ish text) from an OpenAI/one-api/midjourney-proxy error body."""
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            message = inner.get("message") or inner.get("description") or ""
            code = " ".join(str(inner[k]) for k in ("code", "type") if inner.get(k))
            return str(message), code
        if isinstance(inner, str):
            return inner, ""
    if isinstance(body, str | bytes):
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
        return text.strip(), ""
    return "", ""


def _decoded_body(response: httpx2.Response) -> object:
    try:
        return response.json()
    except (ValueError, httpx2.ResponseNotRead):
        try:
            return response.text
        except httpx2.ResponseNotRead:
            return ""


def _cause_name(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return type(cause).__name__ if cause is not None else type(exc).__name__
