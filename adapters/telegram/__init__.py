"""Telegram adapter (aiogram 3): see ``adapters.telegram.app.TelegramBot``."""

from adapters.telegram.app import TelegramBot

__all__ = ["TelegramBot"]
