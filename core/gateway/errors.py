"""Translate openai SDK / httpx2 failures into the typed errors of ``core.errors``.

Mapping, first match wins:

1. The error's ``code`` or ``type`` (exact, see ``CODE_ERRORS``): one-api/new-api
   send e.g. ``insufficient_user_quota`` with 403 and OpenAI ``insufficient_quota``
   with 429, so codes beat the status (a quota error is not a bad key, nor worth a
   retry).  Quota → ``QuotaExceeded``; ``model_not_found`` → ``UnknownModel``;
   ``context_length_exceeded`` → ``ContextTooLong``; ``rate_limit_exceeded`` →
   ``RateLimited``; ``sensitive_words_detected``/``content_filter`` → ``ContentRefused``.
2. 401/403 → ``AuthFailed``; 429 → ``RateLimited`` (``retry_after`` from Retry-After).
3. Message text: quota ("额度已用尽", "余额不足", "exceeded your current quota") →
   ``QuotaExceeded``; a missing model ("does not exist", "无可用渠道", "not found" +
   "model") → ``UnknownModel`` on any status (one-api/new-api report "no channel for
   this model" as a 5xx); context length → ``ContextTooLong``; content filter
   ("sensitive", "敏感") → ``ContentRefused``.
4. Other 4xx → ``BadRequest``; 408 and timeouts → ``GatewayTimeout``; 5xx, connection
   errors and unparsable bodies → ``Unavailable``.

``status=None`` is an error object sent with HTTP 200 (an SSE ``data:`` line, an
``event: error``, or a whole JSON body): classified by codes and text, else
``Unavailable``.  Malformed *stream* chunks become ``StreamCut`` in ``client.py``.
Messages are redacted: the API key (and anything shaped like ``sk-…``) never appears;
``QuotaExceeded``/``BadRequest`` carry the gateway's reason as ``params["detail"]``.
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
    QuotaExceeded,
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
_QUOTA_MARKERS = ("额度已用尽", "额度不足", "余额不足", "insufficient_quota",
                  "insufficient_user_quota", "exceeded your current quota", "quota exceeded",
                  "quota_not_enough")

CODE_ERRORS: dict[str, type[GatewayError]] = {
    # quota / balance (new-api types/error.go; one-api; OpenAI; some relays)
    "insufficient_user_quota": QuotaExceeded,
    "insufficient_quota": QuotaExceeded,
    "quota_not_enough": QuotaExceeded,
    "pre_consume_token_quota_failed": QuotaExceeded,
    "entitlement_required": QuotaExceeded,
    "entitlement_inactive": QuotaExceeded,
    "entitlement_daily_limit_exceeded": QuotaExceeded,
    "entitlement_total_limit_exceeded": QuotaExceeded,
    "insufficient_balance": QuotaExceeded,
    "billing_not_active": QuotaExceeded,
    # models
    "model_not_found": UnknownModel,
    # context
    "context_length_exceeded": ContextTooLong,
    # rate limits (new-api token_concurrency_limit_reached: per-token concurrency)
    "rate_limit_exceeded": RateLimited,
    "rate_limit_error": RateLimited,
    "token_concurrency_limit_reached": RateLimited,
    # moderation (new-api sensitive_words_detected/prompt_blocked; Azure content_filter)
    "sensitive_words_detected": ContentRefused,
    "prompt_blocked": ContentRefused,
    "content_filter": ContentRefused,
    "content_policy_violation": ContentRefused,
    # keys
    "invalid_api_key": AuthFailed,
    "authentication_error": AuthFailed,
}
"""Error ``code``/``type`` values with a fixed meaning, whatever the HTTP status."""


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
    where = f"gateway {status}" if status is not None else "gateway error"
    summary = redact(f"{where}: {message or code or 'no details'}", secret)[:_MAX_MESSAGE]
    detail = redact(message or code or f"HTTP {status}", secret)[:_MAX_MESSAGE]
    kind = _by_code(code)
    if kind is None and status in (401, 403):
        kind = AuthFailed
    if kind is None and status == 429:
        kind = RateLimited
    if kind is None:
        kind = _by_text(text)
    if kind is RateLimited:
        return RateLimited(summary, retry_after=parse_retry_after(headers or {}))
    if kind is QuotaExceeded or kind is BadRequest:
        return kind(summary, detail=detail)
    if kind is not None:
        return kind(summary)
    if status == 408:
        return GatewayTimeout(summary)
    if status is not None and 400 <= status < 500:
        return BadRequest(summary, detail=detail)
    return Unavailable(summary)


def _by_code(code: str) -> type[GatewayError] | None:
    for word in code.split():
        kind = CODE_ERRORS.get(word.lower())
        if kind is not None:
            return kind
    return None


def _by_text(text: str) -> type[GatewayError] | None:
    if any(marker in text for marker in _QUOTA_MARKERS):
        return QuotaExceeded
    if any(marker in text for marker in _MODEL_MARKERS) or (
        "not found" in text and "model" in text
    ):
        return UnknownModel
    if any(marker in text for marker in _CONTEXT_MARKERS):
        return ContextTooLong
    if any(marker in text for marker in _CONTENT_MARKERS):
        return ContentRefused
    return None


def translate(exc: BaseException, *, secret: str = "") -> GatewayError | None:
    """Typed error for an SDK/httpx2 exception; ``None`` if ``exc`` is not a gateway failure."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, openai.APIStatusError):
        return error_from_status(exc.status_code, exc.body, exc.response.headers, secret=secret)
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException) and _refused(exc):
        return Unavailable(f"gateway connection failed ({_cause_name(exc)})")
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
            exc.response.status_code, decoded_body(exc.response), exc.response.headers,
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
            message = (inner.get("message") or inner.get("msg")
                       or inner.get("description") or "")
            code = " ".join(str(inner[k]) for k in ("code", "type") if inner.get(k))
            return str(message), code
        if isinstance(inner, str):
            return inner, ""
    if isinstance(body, str | bytes):
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
        return text.strip(), ""
    return "", ""


def decoded_body(response: httpx2.Response) -> object:
    try:
        return response.json()
    except (ValueError, httpx2.ResponseNotRead):
        try:
            return response.text
        except httpx2.ResponseNotRead:
            return ""


def _refused(exc: BaseException) -> bool:
    """A "timeout" caused by a failed connection (refused, unreachable, DNS): the
    SDK's vendored aiohttp transport maps every ``ClientConnectionError`` to
    ``ConnectTimeout`` (openai/_vendor/httpx_aiohttp/transport.py)."""
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        if isinstance(cause, OSError) and not isinstance(cause, TimeoutError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _cause_name(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return type(cause).__name__ if cause is not None else type(exc).__name__
