"""Logging set-up with secret redaction: tokens and keys never reach log output."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_TOKEN_IN_PATH = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")
_BEARER = re.compile(r"(?i)bearer\s+[A-Za-z0-9._-]+")


class RedactingFilter(logging.Filter):
    """Replaces configured secrets (and bot-token URL paths) in every log record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = _TOKEN_IN_PATH.sub("/bot***", text)
        return _BEARER.sub("Bearer ***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(
                logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str, secrets: Iterable[str]) -> RedactingFilter:
    """Log to stderr at ``level`` with secrets redacted from every handler's output."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redactor = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    for noisy in ("httpx", "httpx2", "httpcore", "aiosqlite", "discord.gateway"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    return redactor
