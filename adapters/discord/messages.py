"""Catalog entries the Discord adapter adds (``discord.*`` keys, en + zh).

Registered through ``core.i18n.register_messages`` so every text still goes through
``core.t``; the lead may move them into ``core/i18n`` later.
"""

from __future__ import annotations

from core.i18n import register_messages

EN = {
    "discord.cancel_button": "Stop",
    "discord.cancel_not_yours": "Only the person who asked (or a server manager) can stop "
    "this answer.",
    "discord.download_failed": "I couldn't download {filename}. Please try again.",
}
ZH = {
    "discord.cancel_button": "停止",
    "discord.cancel_not_yours": "只有提问的人(或服务器管理员)可以停止这个回答。",
    "discord.download_failed": "无法下载 {filename},请重试。",
}


def register() -> None:
    """Add the ``discord.*`` entries to the core catalogs (idempotent)."""
    register_messages("en", EN)
    register_messages("zh", ZH)
