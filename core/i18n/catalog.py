"""Message catalogs: ``t(key, lang, **params)`` in English and Chinese."""

from __future__ import annotations

from typing import Any

from core.i18n.en import MESSAGES as EN
from core.i18n.zh import MESSAGES as ZH

SUPPORTED_LANGUAGES = ("en", "zh")
_CATALOGS: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}


def normalize_language(code: str | None, default: str = "en") -> str:
    """Map a platform language code (``zh-CN``, ``zh-hans``, ``en-US``) to en/zh."""
    if not code:
        return default
    lowered = code.lower()
    if lowered.startswith("zh"):
        return "zh"
    if lowered.startswith("en"):
        return "en"
    return default


def t(key: str, lang: str = "en", **params: Any) -> str:
    """The message ``key`` in ``lang`` with ``params`` filled in.

    Falls back to English, then to the key itself, so a missing entry never crashes.
    """
    template = _CATALOGS.get(lang, EN).get(key) or EN.get(key) or key
    if not params:
        return template
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def register_messages(lang: str, messages: dict[str, str]) -> None:
    """Add or override catalog entries (adapters and plugins ship their own keys)."""
    _CATALOGS.setdefault(lang, {}).update(messages)


def has_key(key: str) -> bool:
    """Whether the English catalog defines ``key``."""
    return key in EN
