"""Typed Midjourney errors: each carries an i18n key (``core.midjourney.texts``).

Submit codes come from midjourney-proxy (see /work/shared/reference/midjourney-api.md):
23 queue full, 24 banned prompt, 3 not found, 4 validation error, 9 system failure.
Gateway (new-api style) errors are HTTP 400 ``{"description", "type": "upstream_error",
"code"}``; ``quota_not_enough`` becomes ``QuotaExceeded``, ``task_not_found`` /
``task_no_found`` ``MjNotFound``, ``unknown_action:<customId>`` ``MjUnsupportedButton``;
any other HTTP 404 (the route itself is missing) ``MjUnavailable``.
"""

from __future__ import annotations

from core.errors import GatewayError


class MjError(GatewayError):
    """A Midjourney submit or fetch was refused; ``params["detail"]`` is the reason."""

    key = "mj.error"


class MjQueueFull(MjError):
    """Code 23: the account's queue is full; try again later."""

    key = "mj.queue_full"


class MjBannedPrompt(MjError):
    """Code 24: Midjourney bans a word of the prompt.

    ``params``: ``word`` (the banned word), ``prompt_en`` (the English prompt sent)."""

    key = "mj.banned"


class MjInvalid(MjError):
    """Code 4 (or HTTP 400 code 4): the request was invalid (empty prompt, bad image…)."""

    key = "mj.invalid"


class MjNotFound(MjError):
    """Code 3 / ``task_not_found``: the task (or its parent) is unknown to the gateway."""

    key = "mj.not_found"


class MjSystemFailure(MjError):
    """Code 9 or an unknown code: the proxy failed."""

    key = "mj.system_failure"


class MjUnsupportedButton(MjError):
    """HTTP 400 ``unknown_action:<customId>``: the gateway does not map this button."""

    key = "mj.button_unsupported"


class MjUnavailable(MjNotFound):
    """HTTP 404 without a task-not-found code: the gateway has no such Midjourney route
    (Midjourney is not enabled there). A ``MjNotFound`` so the poller treats a missing
    ``list-by-condition``/``fetch`` route as before."""

    key = "mj.unavailable"
