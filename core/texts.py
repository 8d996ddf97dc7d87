"""User-facing texts of core errors and failed turns (mixed into ``ChatCore``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import ChatbridgeError
from core.events import TurnFailed
from core.i18n import t


class LocalizedTexts:
    """``t``, ``failure_text`` and ``error_text``: i18n keys + params -> localized text
    (``retry_after`` in seconds becomes a phrase, unknown models get suggestions)."""

    @staticmethod
    def t(key: str, lang: str = "en", **params: Any) -> str:
        """Localized message text."""
        return t(key, lang, **params)

    def failure_text(self, event: TurnFailed, lang: str) -> str:
        """The user-facing text of a failed turn."""
        return self._localize(event.key, event.params, lang)

    def failure_notice(self, event: TurnFailed, lang: str) -> str:
        """The notice every front end shows for a failed turn: ``failure_text`` with the
        warning icon (i18n ``turn.failure_notice``, e.g. "⚠️ The answer was cut off…")."""
        return t("turn.failure_notice", lang, reason=self.failure_text(event, lang))

    def error_text(self, error: ChatbridgeError, lang: str) -> str:
        """The user-facing text of a core error."""
        return self._localize(error.key, error.params, lang)

    def _localize(self, key: str, params: Mapping[str, Any], lang: str) -> str:
        values = dict(params)
        retry = values.get("retry_after")
        values["retry_after_text"] = (
            t("turn.retry_after_seconds", lang, seconds=int(float(retry) + 0.999))
            if retry else t("turn.retry_after_unknown", lang))
        values.setdefault("detail", "")
        values.setdefault("model", "")
        text = t(key, lang, **values)
        if key == "error.unknown_model" and values.get("suggestions"):
            text += " " + t("cmd.model_suggest", lang, suggestions=values["suggestions"])
        return text
