"""Typed core errors.

Every error that reaches a user carries a message ``key`` (looked up in the zh/en
catalog by adapters) and ``params`` for interpolation, so nothing platform- or
language-specific leaks out of the core.
"""

from __future__ import annotations

from typing import Any


class ChatbridgeError(Exception):
    """Base class of all errors raised by the core."""

    key: str = "error.internal"

    def __init__(self, message: str = "", **params: Any) -> None:
        super().__init__(message or self.key)
        self.params: dict[str, Any] = params


class GatewayError(ChatbridgeError):
    """Any failure talking to the model gateway."""

    key = "error.gateway"


class RateLimited(GatewayError):
    """The gateway answered 429; ``retry_after`` is in seconds when known."""

    key = "error.rate_limited"

    def __init__(self, message: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class Unavailable(GatewayError):
    """The gateway answered 5xx or could not be reached."""

    key = "error.unavailable"


class GatewayTimeout(GatewayError):
    """No answer within the configured timeout."""

    key = "error.timeout"


class AuthFailed(GatewayError):
    """The gateway rejected the API key (401/403)."""

    key = "error.auth_failed"


class BadRequest(GatewayError):
    """The gateway rejected the request (4xx other than 401/403/429)."""

    key = "error.bad_request"


class ContextTooLong(BadRequest):
    """The prompt exceeds the model's context window."""

    key = "error.context_too_long"


class UnknownModel(BadRequest):
    """The gateway (or the catalog) does not know the requested model."""

    key = "error.unknown_model"


class ContentRefused(BadRequest):
    """The upstream refused the content (moderation / safety filter)."""

    key = "error.content_refused"


class QuotaExceeded(GatewayError):
    """The gateway refused for lack of balance/quota (one-api/new-api
    ``insufficient_user_quota``, OpenAI ``insufficient_quota``…); not transient.

    ``params["detail"]`` is the gateway's own (redacted) reason, shown to the user."""

    key = "error.quota_exceeded"


class StreamCut(GatewayError):
    """A streamed answer ended before its final chunk."""

    key = "error.stream_cut"


class UserInputError(ChatbridgeError):
    """Bad input from the user (malformed command, too large, unsupported)."""

    key = "error.bad_input"

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key, **params)
        self.key = key


class PermissionDenied(UserInputError):
    """The actor may not run this command or change this scope."""

    def __init__(self, key: str = "error.permission_denied", **params: Any) -> None:
        super().__init__(key, **params)


class EmptyAnswer(GatewayError):
    """The model returned no text at all."""

    key = "error.empty_answer"


class NotAGateway(GatewayError):
    """``/v1/models`` answered 404 or something that is not a model list: the gateway
    URL is wrong (e.g. a web site, or a path that doubles ``/v1``)."""

    key = "error.unavailable"
