"""Runs one turn: context → streamed answer (with tool calls) → stored atomically."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from core.conversation.context import (
    build_messages,
    fit_history,
    fixed_cost,
    user_content,
    user_text_with_documents,
)
from core.conversation.history import HistoryCache, HistoryEntry
from core.conversation.inputs import (
    DocumentInput,
    ImageInput,
    UserMessage,
    clean_text,
    media_records,
)
from core.conversation.keys import Actor, ChatRef
from core.conversation.scheduler import Submission
from core.conversation.settings import SettingsService
from core.conversation.tickets import TurnTicket
from core.errors import ChatbridgeError, EmptyAnswer, UnknownModel, UserInputError
from core.events import (
    PartShown,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinal,
    TurnMerged,
    TurnStarted,
    Usage,
)
from core.gateway import ChatChunk, ChatRequest, GatewayClient
from core.metering import CallInfo, Metering
from core.models import ModelCatalog, ModelInfo
from core.parts import ActionRows, MediaPart
from core.storage import NewMessage, Store
from core.tokens import estimate_message_tokens, estimate_text_tokens
from core.tools import ToolRegistry, allowed_tools
from core.tools.context import TOOL_CONTEXT, ToolContext

log = logging.getLogger(__name__)
MAX_TOOL_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class EngineLimits:
    """Per-turn limits taken from the app settings."""

    max_output_tokens: int = 2048
    max_input_chars: int = 32000


@dataclass(slots=True)
class _TurnState:
    """What a turn has produced so far (kept for failures and cancellation)."""

    turn_id: str
    chat: ChatRef
    actor: Actor
    text: list[str] = field(default_factory=list)
    extra_messages: list[NewMessage] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usage_estimated: bool = False
    final: TurnFinal | None = None
    model: str = ""
    last_round_start: int = 0
    finish_reason: str | None = None
    saving: asyncio.Future[list[int]] | None = None
    prompt_estimate: int = 0
    """Estimated tokens of the next call's messages (tool rounds add theirs)."""

    @property
    def partial(self) -> str:
        return "".join(self.text)


def merge_messages(messages: list[UserMessage]) -> UserMessage:
    """Merge a burst of messages into one (texts joined by blank lines)."""
    if len(messages) == 1:
        return messages[0]
    images: tuple[ImageInput, ...] = ()
    documents: tuple[DocumentInput, ...] = ()
    for message in messages:
        images += message.images
        documents += message.documents
    text = "\n".join(m.text for m in messages if m.text)
    return UserMessage(text=text, images=images, documents=documents,
                       model_override=messages[0].model_override)


FinalActions = Callable[[ChatRef, Actor, str, TurnFinal], Awaitable[ActionRows]]
"""``(chat, actor, lang, final) -> rows`` of buttons to put under a final answer."""


class ConversationEngine:
    """Answers merged submissions for one conversation at a time (see TurnScheduler)."""

    def __init__(self, *, store: Store, gateway: GatewayClient, catalog: ModelCatalog,
                 settings: SettingsService, tools: ToolRegistry, limits: EngineLimits,
                 metering: Metering) -> None:
        self._store = store
        self._gateway = gateway
        self._metering = metering
        self._catalog = catalog
        self._settings = settings
        self._tools = tools
        self._limits = limits
        self.history = HistoryCache(store)
        self.final_actions: FinalActions | None = None
        """Buttons for a completed turn's ``TurnFinal.actions`` (set by ChatCore: the
        Continue button when the answer was cut at the output limit)."""

    async def run(self, key: str, batch: list[Submission]) -> None:
        """Run the turn for ``batch`` (leader first) and emit its events."""
        leader = batch[0]
        state = _TurnState(turn_id=uuid.uuid4().hex, chat=leader.chat, actor=leader.actor)
        for follower in batch[1:]:
            follower.ticket.emit(TurnMerged(into_turn_id=state.turn_id))
        ticket = leader.ticket
        try:  # the turn's usage rows commit with its messages (Store.turn_usage)
            async with self._store.turn_usage():
                await self._answer_or_finish(key, leader, batch, state, ticket)
        except asyncio.CancelledError:
            ticket.emit(TurnCancelled(partial_text=state.partial))
        except ChatbridgeError as exc:
            params = dict(exc.params)
            if state.model:
                params.setdefault("model", state.model)
            ticket.emit(TurnFailed(exc.key, params, partial_text=state.partial))
        except Exception:
            log.exception("turn %s failed", state.turn_id)
            ticket.emit(TurnFailed("error.internal", {}, partial_text=state.partial))

    async def _answer_or_finish(self, key: str, leader: Submission, batch: list[Submission],
                                state: _TurnState, ticket: TurnTicket) -> None:
        try:
            await self._answer(key, leader, merge_messages([s.message for s in batch]),
                               state, ticket)
        except asyncio.CancelledError:
            if state.saving is None or state.final is None:
                raise
            await self._finish_saving(state, ticket)  # too late to cancel: it is stored

    @staticmethod
    async def _finish_saving(state: _TurnState, ticket: TurnTicket) -> None:
        """Cancelled while saving: the turn is being stored, so wait for it (ignoring
        further cancels) and report what really happened."""
        assert state.saving is not None and state.final is not None
        while not state.saving.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(state.saving)
        if state.saving.cancelled() or state.saving.exception() is not None:
            log.error("saving turn %s failed", state.turn_id)
            ticket.emit(TurnFailed("error.internal", {}, partial_text=state.partial))
            return
        ticket.emit(state.final)

    async def _answer(self, key: str, leader: Submission, message: UserMessage,
                      state: _TurnState, ticket: TurnTicket) -> None:
        if len(message.text) > self._limits.max_input_chars:  # a merged burst as a whole
            raise UserInputError("error.input_too_long", length=len(message.text),
                                 limit=self._limits.max_input_chars)
        effective = await self._settings.resolve(leader.chat, leader.actor)
        model = self._model_for(message, str(effective["model"]))
        if message.images and not model.vision:
            names = ", ".join(m.name for m in self._catalog.vision_models()[:6])
            raise UserInputError("error.no_vision", model=model.name, models=names)
        state.model = model.name
        ticket.emit(TurnStarted(turn_id=state.turn_id, model=model.name))
        conversation_id = await self._store.current_conversation(key)
        persona = str(effective["persona"] or "")
        new_user = {"role": "user", "content": user_content(message)}
        max_out = min(model.max_output, self._limits.max_output_tokens)
        fixed = fixed_cost(persona, [new_user])
        budget = model.context_window - max_out - fixed
        history = await self._load_history(conversation_id, budget)
        messages = build_messages(persona, history, [new_user])
        # the prompt's token estimate (for usage a gateway does not report), from the
        # costs the context was trimmed with: no re-estimate of the history per call
        state.prompt_estimate = fixed + sum(entry.cost for entry in history)
        temperature = effective["temperature"]
        schemas = self._tools.schemas(allowed_tools(effective["tools"]))
        await self._stream_rounds(state, ticket, ChatRequest(
            model=model.name, messages=messages,
            temperature=float(temperature) if temperature is not None else None,
            max_tokens=max_out,
            tools=schemas if schemas and model.tools else None,
        ))
        answer = state.partial
        if not answer.strip():
            raise EmptyAnswer(model=model.name)
        state.final = TurnFinal(turn_id=state.turn_id, model=model.name, text=answer,
                                usage=self._usage(state),
                                truncated=state.finish_reason == "length")
        await self._save(message, state, conversation_id, model.name,
                         estimate_message_tokens(new_user), max(budget, 0))
        if self.final_actions is not None:
            rows = await self.final_actions(leader.chat, leader.actor, ticket.language,
                                            state.final)
            if rows:
                state.final = replace(state.final, actions=rows)
        ticket.emit(state.final)

    def _model_for(self, message: UserMessage, configured: str) -> ModelInfo:
        if message.model_override:
            resolved = self._catalog.resolve(message.model_override)
            if resolved.model is None:
                raise UnknownModel(model=message.model_override,
                                   suggestions=", ".join(resolved.suggestions))
            return resolved.model
        return self._catalog.info(configured)  # defaults for a gateway-only model

    async def _load_history(self, conversation_id: int, budget: int) -> list[HistoryEntry]:
        newest_first = await self.history.recent(conversation_id, max(budget, 0))
        return fit_history(newest_first, max(budget, 0))

    async def _stream_rounds(self, state: _TurnState, ticket: TurnTicket,
                             request: ChatRequest) -> None:
        messages = list(request.messages)
        offered = {tool["function"]["name"] for tool in request.tools or ()}
        for _ in range(MAX_TOOL_ROUNDS):
            round_request = ChatRequest(model=request.model, messages=messages,
                                        temperature=request.temperature,
                                        max_tokens=request.max_tokens, tools=request.tools)
            round_text: list[str] = []
            state.last_round_start = len(state.text)
            final = await self._metered_round(state, ticket, round_request, round_text)
            state.finish_reason = final.finish_reason if final else None
            if final is None or not final.tool_calls or not request.tools:
                return
            calls = [{"id": c.id, "type": "function",
                      "function": {"name": c.name, "arguments": c.arguments}}
                     for c in final.tool_calls]
            assistant: dict[str, Any] = {"role": "assistant", "content": "".join(round_text),
                                         "tool_calls": calls}
            messages.append(assistant)
            state.extra_messages.append(NewMessage(
                role="assistant", content=assistant["content"], tool_calls=calls,
                tokens=estimate_message_tokens(assistant), model=request.model))
            state.prompt_estimate += state.extra_messages[-1].tokens
            for call in final.tool_calls:
                ticket.emit(ToolCallStarted(call.id, call.name, call.arguments))
                context = TOOL_CONTEXT.set(ToolContext(state.chat, state.actor, state.turn_id))
                try:
                    outcome, ok = await self._tools.call(call.name, call.arguments, offered)
                finally:
                    TOOL_CONTEXT.reset(context)
                if outcome.media:  # shown in the chat; the model gets the text only
                    ticket.emit(PartShown(MediaPart(media=outcome.media,
                                                    actions=outcome.actions)))
                ticket.emit(ToolCallFinished(call.id, call.name, outcome.text, ok))
                tool_message = {"role": "tool", "tool_call_id": call.id,
                                "content": outcome.text}
                messages.append(tool_message)
                state.extra_messages.append(NewMessage(
                    role="tool", content=outcome.text, tool_call_id=call.id, name=call.name,
                    tokens=estimate_message_tokens(tool_message)))
                state.prompt_estimate += state.extra_messages[-1].tokens

    async def _metered_round(self, state: _TurnState, ticket: TurnTicket,
                             request: ChatRequest, round_text: list[str]) -> ChatChunk | None:
        """One gateway call (one tool round) inside ``Metering.call``: streams its text
        into ``round_text`` and the ticket; the finishing chunk (None if the stream ended
        without one). Refusals of a ``before`` hook propagate before any request."""
        prompt = state.prompt_estimate
        info = CallInfo("chat", request.model, state.chat, state.actor, turn_id=state.turn_id,
                        estimate=prompt + (request.max_tokens or 0), prompt_tokens=prompt)
        final = None
        async with self._metering.call(info) as meter:
            async for chunk in self._gateway.stream_chat(request):
                if chunk.text:
                    text = clean_text(chunk.text)  # a "\ud800" escape cannot be stored
                    meter.add_text(text)
                    round_text.append(text)
                    state.text.append(text)
                    ticket.emit(TextDelta(text))
                if chunk.finish_reason is not None:
                    final = chunk
            for call in final.tool_calls if final else ():
                meter.add_text(call.name + call.arguments)
            meter.report(final.usage if final else None)
        usage = meter.usage()
        state.prompt_tokens += usage.prompt_tokens
        state.completion_tokens += usage.completion_tokens
        state.usage_estimated |= usage.estimated
        return final

    @staticmethod
    def _usage(state: _TurnState) -> Usage:
        return Usage(state.prompt_tokens, state.completion_tokens, state.usage_estimated)

    async def _save(self, message: UserMessage, state: _TurnState, conversation_id: int,
                    model: str, user_tokens: int, budget: int) -> None:
        user = NewMessage(role="user", content=user_text_with_documents(message),
                          tokens=user_tokens, media=media_records(message))
        answer = "".join(state.text[state.last_round_start:])  # earlier rounds are stored
        assistant = NewMessage(role="assistant", content=answer, model=model,  # with tools
                               tokens=estimate_text_tokens(answer) + 4)
        messages = [user, *state.extra_messages, assistant]
        state.saving = asyncio.ensure_future(self._store.save_turn(  # with the calls' usage
            conversation_id, state.turn_id, messages, None))  # rows held by turn_usage()

        def remember(saved: asyncio.Future[list[int]]) -> None:
            if not saved.cancelled() and saved.exception() is None:
                self.history.append(conversation_id, saved.result(), messages,
                                    state.turn_id, budget)

        state.saving.add_done_callback(remember)
        await asyncio.shield(state.saving)
