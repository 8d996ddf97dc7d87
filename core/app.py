"""ChatCore: the composition root that adapters talk to (see docs/ARCHITECTURE.md)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url

from core.actions import ActionOutcome, ActionService, Press
from core.commands.handlers import CommandContext, CommandHandlers
from core.commands.parser import ParsedCommand, parse_command
from core.commands.picker import ModelPicker
from core.commands.registry import COMMANDS, find_command
from core.commands.replies import CommandReply
from core.commands.spec import CommandSpec
from core.config import AppSettings, SettingsError
from core.continue_action import continue_actions, register_continue
from core.conversation.continuation import continue_message, is_continue_request
from core.conversation.engine import ConversationEngine, EngineLimits
from core.conversation.inputs import UserMessage, clean_message, clean_text
from core.conversation.keys import Actor, ChatRef, conversation_key
from core.conversation.scheduler import Submission, TurnScheduler
from core.conversation.settings import ChatOptions, SettingsService
from core.conversation.tickets import TurnTicket
from core.errors import ChatbridgeError, UserInputError
from core.events import TurnFailed, TurnFinal
from core.gateway import GatewayClient
from core.i18n import normalize_language, t
from core.image_jobs import ImageJobs
from core.images.service import ImageService
from core.images.tool import image_tool
from core.inbound import Inbound, InboundPipeline, InboundResult
from core.media import MediaPreparer
from core.metering import Metering, UsageLedger
from core.midjourney.commands import MjCommands
from core.midjourney.presses import Presses
from core.midjourney.service import Midjourney
from core.models import ModelCatalog, ModelInfo
from core.outbox import Outbox
from core.parts import ActionRows, Who
from core.probe import probe_gateway
from core.storage import Store
from core.texts import LocalizedTexts
from core.tools import ToolRegistry, load_entry_point_tools

log = logging.getLogger(__name__)


async def open_store(url: str) -> Store:
    """``Store.open(url)``; any failure becomes ``SettingsError`` naming DATABASE_URL.

    The message carries the error type and text with the URL's password removed."""
    try:
        return await Store.open(url)
    except Exception as exc:  # driver/OS errors of any kind: report, do not trace back
        text = " ".join(str(exc).split())[:300]
        password = make_url(url).password
        if password:
            text = text.replace(str(password), "***")
        raise SettingsError(f"invalid setting DATABASE_URL: cannot open the database "
                            f"({type(exc).__name__}: {text})") from None



@dataclass(frozen=True, slots=True)
class Choice:
    """An autocomplete choice: the value to submit and a label to show."""

    value: str
    label: str


class ChatCore(LocalizedTexts):
    """Everything a platform adapter needs: turns, commands, settings, catalog, media."""

    def __init__(self, settings: AppSettings, *, store: Store, gateway: GatewayClient,
                 catalog: ModelCatalog, tools: ToolRegistry | None = None) -> None:
        self.settings = settings
        self.store = store
        self.gateway = gateway
        self.catalog = catalog
        self.tools = tools if tools is not None else ToolRegistry()
        self.media = MediaPreparer(max_image_bytes=settings.max_image_bytes,
                                   max_document_bytes=settings.max_document_bytes)
        self.settings_service = SettingsService(store, {
            "model": settings.default_model, "persona": settings.default_persona,
            "temperature": None, "language": None,
            "reply_mode": "mention", "context_mode": "shared", "tools": None,
            "image_model": None, "image_size": None,
            "image_daily_allowance": settings.image_daily_allowance,
            "image_jobs_per_chat": settings.image_jobs_per_chat,
            "image_jobs_per_user": settings.image_jobs_per_user,
            "image_buttons": "requester",
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
        self.actions = ActionService(store.actions, self)
        """Buttons: register action kinds, create actions (see ``core.actions``)."""
        self._handlers = CommandHandlers(settings=self.settings_service, catalog=catalog,
                                         new_conversation=self._new_conversation,
                                         cancel=self.cancel,
                                         picker=ModelPicker(catalog, self.actions),
                                         tools=self.tools)
        register_continue(self.actions)
        self.engine.final_actions = self._final_actions
        self._refresher: asyncio.Task[None] | None = None
        self.outbox = Outbox()
        """Deliveries the core starts on its own (see ``core.outbox``)."""
        self._migrations = asyncio.Lock()
        self.image_jobs = ImageJobs(self.settings_service, store)
        """Daily allowance + fair per-chat queue for image jobs (``core.image_jobs``)."""
        self.inbound = InboundPipeline(self)
        """The inbound policy; ``inbound.ask`` submits a turn with attachments."""
        self.images = ImageService(self)
        """``/image``, ``/edit``, ``/vary`` and their buttons (see ``core.images``)."""
        self.images.install()
        for name in ("image", "edit", "vary"):
            self._handlers.add(name, functools.partial(self.images.command, name))
        self.midjourney = Midjourney(self)
        """Midjourney jobs, commands and ``mj.*`` buttons (``core.midjourney``)."""
        self._mj_presses = Presses(self.midjourney)
        for name, handler in MjCommands(self.midjourney).handlers().items():
            self._handlers.add(name, handler)

    @classmethod
    async def create(cls, settings: AppSettings, *, refresh_models: bool = True) -> ChatCore:
        """Open the database (migrating it), the gateway client and the catalog.

        Raises ``SettingsError`` (one line naming the variable) when the database cannot
        be opened (``DATABASE_URL``) or, with ``refresh_models``, when the gateway's
        ``/v1/models`` answers 404/non-JSON (``GATEWAY_BASE_URL``) or 401/403
        (``GATEWAY_API_KEY``); an unreachable gateway only logs a warning.
        """
        store = await open_store(settings.database_url)
        gateway = GatewayClient(
            settings.gateway_base_url, settings.secret(settings.gateway_api_key),
            timeout=settings.request_timeout, max_retries=settings.gateway_max_retries,
            stream_usage=settings.gateway_stream_usage,
            backoff_base=settings.gateway_retry_backoff)
        tools = ToolRegistry()
        load_entry_point_tools(tools)
        core = cls(settings, store=store, gateway=gateway,
                   catalog=ModelCatalog.shipped(settings.extra_models_file), tools=tools)
        tools.register(image_tool(core, core.images))
        if store.dialect == "sqlite":  # one process per file (SettingsService)
            await core.settings_service.load_index()
        await core.actions.purge_expired()
        await core.midjourney.start()
        if refresh_models:
            try:
                await core.probe_gateway()
            except SettingsError:
                await core.close()
                raise
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
        await self.images.close()
        await self.midjourney.close()
        await self.gateway.aclose()
        await self.store.close()

    async def probe_gateway(self) -> None:
        """The start-up ``/v1/models`` call (see ``core.probe.probe_gateway``)."""
        await probe_gateway(self.gateway, self.catalog)

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

    async def receive(self, inbound: Inbound) -> InboundResult:
        """Decide what an incoming message is and run it: a ``CommandReply``, a
        ``TurnTicket``, ``Ignored`` or a localized ``Refusal`` (see ``core.inbound``)."""
        return await self.inbound.receive(inbound)  # texts cleaned by run_command/submit

    async def submit(self, chat: ChatRef, actor: Actor, message: UserMessage, *,
                     expect_more: bool = False) -> TurnTicket:
        """Queue a user message; the ticket streams the events of the turn answering it.

        ``expect_more`` tells the core that the platform is delivering more parts of
        the same message (a long paste split in pieces) so it waits to merge them.
        """
        ticket = TurnTicket(await self.language_for(chat, actor), self.scheduler.cancel_ticket)
        message = clean_message(message)  # storable and sendable (lone surrogates)
        if is_continue_request(message):  # "continue" / "继续" / "go on" alone
            message = continue_message(message.model_override)
        if message.is_empty:
            ticket.emit(TurnFailed("error.empty_input"))
            return ticket
        key = await self.conversation_key(chat, actor)
        loop = asyncio.get_running_loop()
        self.scheduler.submit(key, Submission(chat, actor, message, ticket, loop.time(),
                                              expect_more))
        return ticket

    async def _final_actions(self, chat: ChatRef, actor: Actor, lang: str,
                             final: TurnFinal) -> ActionRows:
        """The Continue button under an answer cut at the output limit."""
        if not final.truncated:
            return ()
        return await continue_actions(self.actions, chat, actor.user_id, lang)

    async def continue_turn(self, chat: ChatRef, actor: Actor) -> TurnTicket:
        """Continue ``actor``'s last answer in ``chat`` (one that hit the output limit):
        a normal turn whose user message is the continue instruction (see
        ``core.conversation.continuation``)."""
        return await self.submit(chat, actor, continue_message())

    async def cancel(self, chat: ChatRef, actor: Actor) -> bool:
        """Stop ``actor``'s running turn in ``chat``; messages they sent meanwhile are
        still answered, unless nothing of theirs runs (a second cancel drops them). Chat
        admins (and bot owners) stop everybody's turns in a shared conversation."""
        return await self._cancel_turns(chat, actor, queued=False)

    async def _cancel_turns(self, chat: ChatRef, actor: Actor, *, queued: bool) -> bool:
        moderator = chat.is_private or actor.is_chat_admin or self.is_bot_admin(actor)
        key = await self.conversation_key(chat, actor)
        return await self.scheduler.stop(key, None if moderator else actor.user_id,
                                         queued=queued)

    def cancel_chat(self, platform: str, chat_id: str) -> int:
        """Cancel every running and queued turn in a chat (e.g. the bot was blocked or
        removed there); returns the number of conversations touched."""
        return self.scheduler.cancel_chat(platform, chat_id)

    async def migrate_chat(self, platform: str, old_chat_id: str, new_chat_id: str) -> bool:
        """Move everything kept for a chat to its new id (a Telegram group upgraded to a
        supergroup): conversations of every key (topics, per-user), settings at chat and
        user-in-chat scope, usage rows, and the in-memory caches. One transaction;
        idempotent (False when nothing was left under the old id). Turns and jobs already
        running or queued under the old id go on, and what they store afterwards (their
        messages, buttons, ledger rows, Midjourney tasks) goes to the new id
        (``core.storage.chat_moves.MovedChats``)."""
        async with self._migrations:
            move = await self.store.move_chat(platform, old_chat_id, new_chat_id)
        self.settings_service.forget_chat(platform, old_chat_id)
        self.settings_service.forget_chat(platform, new_chat_id)
        for conversation_id in move.merged:
            self.engine.history.forget(conversation_id)
        if move.moved:
            log.info("chat %s:%s moved to %s (%d conversations, %d settings)", platform,
                     old_chat_id, new_chat_id, len(move.keys), move.settings)
        return move.moved

    def is_bot_admin(self, actor: Actor) -> bool:
        """Whether ``actor`` is one of the bot's owners (``ADMIN_IDS``)."""
        return actor.user_id in self.settings.admin_ids

    async def _new_conversation(self, chat: ChatRef, actor: Actor) -> bool:
        await self._cancel_turns(chat, actor, queued=True)  # nothing crosses into the new one
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

    async def images_button_who(self, chat: ChatRef) -> Who:
        """Who may press image/MJ result buttons in ``chat`` (setting ``image_buttons``)."""
        return await self.image_jobs.button_who(chat)

    # --- actions (buttons) ---------------------------------------------------------------
    async def run_action(self, action_id: str, chat: ChatRef, actor: Actor) -> ActionOutcome:
        """Run the button ``action_id`` pressed by ``actor`` in ``chat``; unknown, expired
        and not-yours buttons get a localized notice with ``alert=True``; a press of a
        button whose action is still running gets ``action.busy`` and runs nothing."""
        return await self.actions.run(action_id, chat, actor)

    async def press_action(self, action_id: str, chat: ChatRef, actor: Actor) -> Press:
        """``run_action`` in two steps (see ``ActionService.press``): the quick checks
        now (no gateway call), the work in ``Press.run()``, so a platform can answer
        the press before the work ends."""
        return await self.actions.press(action_id, chat, actor)

    async def submit_prompt(self, action_id: str, text: str, chat: ChatRef, actor: Actor,
                            mask: bytes | None = None) -> CommandReply:
        """Answer a ``PromptRequest`` (``ActionOutcome.prompt``) with ``text`` (and
        ``mask`` image bytes for Vary Region, white = redraw): a reply whose ``ticket``
        presents the job; user errors and refused submits become an error reply."""
        text = clean_text(text)
        lang = await self.language_for(chat, actor)
        try:
            return await self._mj_presses.submit_prompt(action_id, text, chat, actor, mask)
        except ChatbridgeError as exc:
            return CommandReply(self.error_text(exc, lang), ephemeral=True, is_error=True)

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
        args = {k: clean_text(v) if isinstance(v, str) else v for k, v in args.items()}
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
        text = clean_text(text)
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
