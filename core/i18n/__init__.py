"""zh/en message catalogs."""

from core.i18n.catalog import SUPPORTED_LANGUAGES, normalize_language, register_messages, t

__all__ = ["SUPPORTED_LANGUAGES", "normalize_language", "register_messages", "t"]
