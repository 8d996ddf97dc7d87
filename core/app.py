"""ChatCore: the composition root that adapters talk to (see docs/ARCHITECTURE.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.commands.handlers import CommandContext, CommandHandlers
from core.commands.parser import ParsedCommand, parse_command
from core.commands.registry import COMMANDS, find_command
from core.commands.replies import CommandReply
from core.commands.spec import CommandSpec
from core.config import AppSettings
from core.conversation.engine import ConversationEngine, EngineLimits
from core.conversation.inputs import UserMessage
from core.conversation.keys import Actor, ChatRef, conversation_key
from core.conversation.scheduler import Submission, TurnScheduler
from core.conversation.settings import ChatOptions, SettingsService
from core.conversation.tickets import TurnTicket
from core.errors import ChatbridgeError, UserInputError
from core.events import TurnFailed
from core.gateway import GatewayClient
from core.i18n import normalize_language, t
from core.media import MediaPreparer
from core.metering import Metering, UsageLedger
from core.models import ModelCatalog, ModelInfo
from core.storage import Store
from core.tools import ToolRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Choice:
    """An autocomplete choice: the value to submit and a label to show."""

    value: str
    label: str


class ChatCore:
    """Everything a platform adapter needs: turns, commands, settings, catalog, media."""

    def __init__(self, settings: AppSettings, *, store: Store, gateway: GatewayClient,
                 catalog: ModelCatalog, tools: ToolRegistry | None = None) -> None:
        self.settings = settings
        self.store = store
        self.gateway = gateway
        self.catalog = catalog
        self.tools = tools or ToolRegistry()
        self.media = MediaPreparer(max_image_bytes=settings.max_image_bytes,
                                   max_document_bytes=settings.max_document_bytes)
        self.settings_service = SettingsService(store, {
            "model": settings.default_model, "persona": settings.default_persona,
            "temperature": None, "language": None,
            "reply_mode": "mention", "context_mode": "shared",
        })
        self.metering = Metering(catalog, [UsageLedger(store)])
        """Hooks around every gateway call: ``core.metering.add(hook)`` (quotas, …)."""
        self.engine = ConversationEngine(
            store=store, gateway=gateway, catalog=catalog, settings=self.settings_service,
            tools=self.tools, limits=EngineLimits(settings.max_output_tokens,
                                                  settings.max_input_chars),
            metering=self.metering)
        self.scheduler = TurnScheduler(self.engine.run, burst_window=settings.burst_window,
                                       burst_max_wait=settings.burst_max_wait)
        self._handlers = CommandHandlers(settings=self.settings_service, catalog=catalog,
                                         new_conversation=self._new_conversation,
                                         cancel=self.cancel)
        self._refresher: asyncio.Task[None] | None = None

    @classmethod
    async def create(cls, settings: AppSettings, *, refresh_models: bool = True) -> ChatCore:
        """Open the database (migrating it), the gateway client and the catalog."""
        store = await Store.open(settings.database_url)
        gateway = GatewayClient(
            settings.gateway_base_url, settings.secret(settings.gateway_api_key),
            timeout=settings.request_timeout, max_retries=settings.gateway_max_retries,
            stream_usage=settings.gateway_stream_usage,
            backoff_base=settings.gateway_retry_backoff)
        core = cls(settings, store=store, gateway=gateway,
                   catalog=ModelCatalog.shipped(settings.extra_models_file))
        if refresh_models:
            await core.refresh_models()
            if settings.models_refresh_interval > 0:
                core._refresher = asyncio.create_task(core._refresh_forever())
        return core

    async def close(self) -> None:
        """Stop turns and background work, close the gateway and the database."""
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        await self.scheduler.close()
        await self.gateway.aclose()
        await self.store.close()

    async def refresh_models(self) -> bool:
        """Merge the gateway's live ``/v1/models`` list into the catalog."""
        try:
            ids = await self.gateway.list_models()
        except ChatbridgeError as exc:
            log.warning("could not list gateway models: %s", exc.key)
            return False
        self.catalog.merge_live(ids)
        return True

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.models_refresh_interval)
            await self.refresh_models()

    # --- conversations -----------------------------------------------------------------
    async def chat_options(self, chat: ChatRef) -> ChatOptions:
        """When the bot answers in ``chat`` and whether context is per user."""
        return await self.settings_service.chat_options(chat)

    async def conversation_key(self, chat: ChatRef, actor: Actor) -> str:
        """The history key of ``actor`` in ``chat`` (per-user in per-user groups)."""
        options = await self.chat_options(chat)
        return conversation_key(chat, actor, per_user=options.per_user)

    async def language_for(self, chat: ChatRef, actor: Actor) -> str:
        """The language to answer ``actor`` in: their setting, else their client's."""
        effective = await self.settings_service.resolve(chat, actor)
        chosen = effective["language"]
        if chosen:
            return str(chosen)
        return normalize_language(actor.language, self.settings.default_language)

    async def submit(self, chat: ChatRef, actor: Actor, message: UserMessage, *,
                     expect_more: bool = False) -> TurnTicket:
        """Queue a user message; the ticket streams the events of the turn answering it.

        ``expect_more`` tells the core that the platform is delivering more parts of
        the same message (a long paste split in pieces) so it waits to merge them.
        """
        ticket = TurnTicket(await self.language_for(chat, actor), self.scheduler.cancel_ticket)
        if message.is_empty:
            ticket.emit(TurnFailed("error.empty_input"))
            return ticket
        key = await self.conversation_key(chat, actor)
        loop = asyncio.get_running_loop()
        self.scheduler.submit(key, Submission(chat, actor, message, ticket, loop.time(),
                                              expect_more))
        return ticket

    async def cancel(self, chat: ChatRef, actor: Actor) -> bool:
        """Cancel ``actor``'s running and queued turns in ``chat``; chat admins (and bot
        owners) stop everybody's turns in a shared conversation."""
        moderator = chat.is_private or actor.is_chat_admin or self.is_bot_admin(actor)
        key = await self.conversation_key(chat, actor)
        return self.scheduler.cancel(key, None if moderator else actor.user_id)

    def is_bot_admin(self, actor: Actor) -> bool:
        """Whether ``actor`` is one of the bot's owners (``ADMIN_IDS``)."""
        return actor.user_id in self.settings.admin_ids

    async def _new_conversation(self, chat: ChatRef, actor: Actor) -> bool:
        await self.store.start_new_conversation(await self.conversation_key(chat, actor))
        return True

    async def current_model(self, chat: ChatRef, actor: Actor) -> ModelInfo:
        """The model ``actor`` talks to in ``chat``."""
        effective = await self.settings_service.resolve(chat, actor)
        return self.catalog.info(str(effective["model"]))

    async def model_for(self, chat: ChatRef, actor: Actor,
                        override: str | None = None) -> ModelInfo | None:
        """The model a turn would use: ``override`` resolved (None if unknown), else the
        actor's current model."""
        if override:
            return self.catalog.resolve(override).model
        return await self.current_model(chat, actor)

    # --- commands ----------------------------------------------------------------------
    @property
    def commands(self) -> tuple[CommandSpec, ...]:
        """The neutral command specs adapters export."""
        return COMMANDS

    def parse_command(self, text: str, platform: str, bot_username: str = ""
                      ) -> ParsedCommand | None:
        """Parse a plain-text command (raises UserInputError on malformed arguments)."""
        return parse_command(text, platform, bot_username)

    async def run_command(self, name: str, args: Mapping[str, Any], chat: ChatRef,
                          actor: Actor) -> CommandReply:
        """Run a command by core (or platform) name; user errors become error replies."""
        lang = await self.language_for(chat, actor)
        spec = find_command(name, chat.platform)
        if spec is None:
            return CommandReply(t("error.unknown_command", lang, name=name), ephemeral=True,
                                is_error=True)
        ctx = CommandContext(chat, actor, lang, is_bot_admin=self.is_bot_admin(actor))
        try:
            return await self._handlers.execute(spec, args, ctx)
        except UserInputError as exc:
            return CommandReply(self.error_text(exc, lang), ephemeral=True, is_error=True)

    async def run_command_text(self, text: str, chat: ChatRef, actor: Actor,
                               bot_username: str = "") -> CommandReply | None:
        """Parse and run a text command. None when it is not one of ours, or is ``ask``
        (a turn: use ``parse_command`` and ``submit``)."""
        try:
            parsed = parse_command(text, chat.platform, bot_username)
        except UserInputError as exc:
            return CommandReply(self.error_text(exc, await self.language_for(chat, actor)),
                                ephemeral=True, is_error=True)
        if parsed is None or (parsed.spec is not None and parsed.spec.name == "ask"):
            return None
        if parsed.spec is None:
            if not chat.is_private:
                return None
            lang = await self.language_for(chat, actor)
            return CommandReply(t("error.unknown_command", lang, name=parsed.name),
                                ephemeral=True, is_error=True)
        return await self.run_command(parsed.spec.name, parsed.args, chat, actor)

    def complete(self, source: str, prefix: str, limit: int = 25) -> list[Choice]:
        """Autocomplete choices for a parameter's ``autocomplete`` source."""
        if source == "models":
            return [Choice(m.name, f"{m.name} · {m.vendor}" + (" 👁" if m.vision else ""))
                    for m in self.catalog.search(prefix, limit)]
        return []

    # --- texts -------------------------------------------------------------------------
    @staticmethod
    def t(key: str, lang: str = "en", **params: Any) -> str:
        """Localized message text."""
        return t(key, lang, **params)

    def failure_text(self, event: TurnFailed, lang: str) -> str:
        """The user-facing text of a failed turn."""
        return self._localize(event.key, event.params, lang)

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
