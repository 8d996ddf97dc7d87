"""Metering: one pipeline of hooks around every gateway call.

Every call to the gateway (a chat completion round, an image, a speech clip, an
embedding, a moderation check, a Midjourney task) runs inside ``Metering.call``::

    info = CallInfo("image", model.name, chat, actor, turn_id=turn_id, estimate=1,
                    unit="images")
    async with core.metering.call(info) as meter:   # hooks' ``before``: may refuse
        urls = await gateway.images(...)            # the transport call itself
        meter.count(len(urls), "images")            # what it consumed
    # hooks' ``after`` ran with CallResult(outcome="ok", usage, units, unit, cost)

Rules (docs/ARCHITECTURE.md, "Metering"):

- ``before`` hooks run in order; one raising (a typed ``ChatbridgeError`` such as a
  quota's ``UserInputError``) *refuses* the call: the error propagates out of
  ``call()``, the body never runs (no gateway request) and NO ``after`` hook runs, not
  even for hooks whose ``before`` passed — a refused call is not a call. So a
  ``before`` must only check, never reserve.
- Otherwise every hook's ``after`` runs once, whatever happens in the body: outcome
  ``"ok"`` when the body returns, ``"cancelled"`` on ``asyncio.CancelledError``,
  ``"failed"`` on any other exception. The body's exception then propagates unchanged.
- Usage is what the gateway reported (``meter.report``); when it is missing (a stream
  cut, cancelled or failed before its usage chunk, or a gateway that sends none), it
  is estimated locally (``Usage.estimated``): prompt tokens from what was sent
  (``CallInfo.prompt_tokens``) plus completion tokens from the text streamed so far
  (``meter.add_text``), with ``core.tokens``. A non-token call (images, audio…)
  cancelled before it counted its units is recorded with ``CallInfo.estimate`` units
  and ``estimated`` set: the request was made, and the gateway may bill it although
  no result came back (a call that *failed* is assumed unbilled: no units).
- ``after`` hooks are shielded from a second cancellation (a user pressing Stop
  twice) and their exceptions are logged, not raised: accounting trouble never turns
  a delivered answer into an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from core.conversation.keys import Actor, ChatRef
from core.events import Usage
from core.models import ModelCatalog
from core.storage import Store, UsageRecord
from core.tokens import estimate_text_tokens

log = logging.getLogger(__name__)

CallKind = Literal["chat", "image", "mj", "audio", "embedding", "moderation"]
Outcome = Literal["ok", "failed", "cancelled"]
Unit = Literal["tokens", "images", "seconds", "characters", "calls"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CallInfo:
    """One gateway call about to be made (what ``before`` hooks judge).

    ``estimate`` is the caller's upper-bound guess of what the call consumes, in
    ``unit`` (chat: prompt tokens + ``max_tokens``; image: the number of images;
    audio: seconds or characters). ``prompt_tokens`` is the local estimate of the
    tokens sent (``core.tokens``), used as the prompt usage when the gateway reports
    none. ``turn_id`` is ``""`` for a call outside a turn; ``call_id`` is unique per
    call (a uuid4 hex).
    """

    kind: CallKind
    model: str
    chat: ChatRef
    actor: Actor
    turn_id: str = ""
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    estimate: float = 0.0
    unit: Unit = "tokens"
    prompt_tokens: int = 0


@dataclass(frozen=True, slots=True)
class CallResult:
    """How a call ended and what it consumed (what ``after`` hooks record).

    ``usage``: tokens (``estimated`` when counted locally); ``units``/``unit``: images,
    seconds or characters for non-token calls (``None`` for token-only calls);
    ``cost``: in the catalog's currency (``ModelCatalog.currency``, USD by default)
    from the catalog's prices, ``None`` when the model has no price for what was used.
    """

    outcome: Outcome
    usage: Usage
    units: float | None = None
    unit: Unit | None = None
    cost: float | None = None


class GatewayHook(Protocol):
    """Runs around every gateway call (see the module docstring for the rules)."""

    async def before(self, call: CallInfo) -> None:
        """Check the call; raise a ``ChatbridgeError`` (localized key) to refuse it."""

    async def after(self, call: CallInfo, result: CallResult) -> None:
        """Record a call that was made (not called for a refused call)."""


class Meter:
    """What the running call consumed so far; the caller reports as it goes."""

    def __init__(self, info: CallInfo) -> None:
        self.info = info
        self._reported: Usage | None = None
        self._streamed: list[str] = []
        self.units: float | None = None
        self.unit: Unit | None = None

    def add_text(self, text: str) -> None:
        """Output received (streamed answer text, tool-call names and arguments)."""
        self._streamed.append(text)

    def report(self, usage: Usage | None) -> None:
        """The gateway's own usage for this call (``None`` or all zeros: not reported)."""
        self._reported = usage if usage is not None and usage.total_tokens else None

    def count(self, units: float, unit: Unit) -> None:
        """Non-token consumption: ``units`` images, seconds or characters."""
        self.units, self.unit = units, unit

    def usage(self) -> Usage:
        """The gateway's usage when it reported one (whatever the outcome), else the
        estimate: prompt tokens sent + tokens of the output streamed so far
        (``estimated``; all zeros, not estimated, for a call that sends no tokens)."""
        if self._reported is not None:
            return self._reported
        prompt = self.info.prompt_tokens
        completion = estimate_text_tokens("".join(self._streamed))
        return Usage(prompt, completion, estimated=bool(prompt or completion))


class Metering:
    """The hooks around every gateway call, with prices from ``catalog``."""

    def __init__(self, catalog: ModelCatalog, hooks: Sequence[GatewayHook] = ()) -> None:
        self._catalog = catalog
        self.hooks: list[GatewayHook] = list(hooks)

    def add(self, hook: GatewayHook) -> None:
        """Append ``hook`` (hooks run in the order added; the ledger is first)."""
        self.hooks.append(hook)

    @contextlib.asynccontextmanager
    async def call(self, info: CallInfo) -> AsyncIterator[Meter]:
        """Run the ``before`` hooks, the block (the gateway call), then the ``after``
        hooks with the outcome. Raises whatever a ``before`` hook raises (the block
        is then skipped) and whatever the block raises. Hooks added meanwhile join at
        the next call."""
        hooks = tuple(self.hooks)
        for hook in hooks:
            await hook.before(info)
        meter = Meter(info)
        outcome: Outcome = "ok"
        try:
            yield meter
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except BaseException:
            outcome = "failed"
            raise
        finally:
            await self._after(hooks, info, self.result(info, meter, outcome))

    async def run(self, info: CallInfo, body: Callable[[Meter], Awaitable[T]]) -> T:
        """``body(meter)`` inside ``call(info)``: the helper every gateway capability
        (images, audio, embeddings, moderation, Midjourney) uses; returns its result."""
        async with self.call(info) as meter:
            return await body(meter)

    def result(self, info: CallInfo, meter: Meter, outcome: Outcome) -> CallResult:
        """The ``CallResult`` of a call that ended with ``outcome`` (cost priced; a
        cancelled non-token call without counted units gets its estimate, see the
        module docstring)."""
        usage, units, unit = meter.usage(), meter.units, meter.unit
        if (outcome == "cancelled" and units is None and info.unit != "tokens"
                and info.estimate > 0):
            units, unit = info.estimate, info.unit
            usage = Usage(usage.prompt_tokens, usage.completion_tokens, estimated=True)
        model = self._catalog.get(info.model)
        cost = None if model is None else model.cost(usage, units, unit)
        return CallResult(outcome, usage, units, unit, cost)

    async def _after(self, hooks: Sequence[GatewayHook], info: CallInfo,
                     result: CallResult) -> None:
        done = asyncio.ensure_future(self._run_after(hooks, info, result))
        interrupted = False
        while not done.done():  # a cancel must not lose the record: finish it first
            try:
                await asyncio.shield(done)
            except asyncio.CancelledError:
                interrupted = True
        if interrupted and result.outcome != "cancelled":
            raise asyncio.CancelledError  # deliver the cancel once the record is written

    @staticmethod
    async def _run_after(hooks: Sequence[GatewayHook], info: CallInfo,
                         result: CallResult) -> None:
        for hook in hooks:
            try:
                await hook.after(info, result)
            except Exception:
                log.exception("metering hook %s failed for call %s",
                              type(hook).__name__, info.call_id)


class UsageLedger:
    """Built-in hook: writes ONE usage-ledger row per call that was made (ok, failed
    or cancelled) through ``Store.record_usage``: right after the call, or, inside a
    chat turn (``Store.turn_usage``), in the same transaction as the turn's messages
    — so a turn with two tool rounds has two rows, a stored turn always has its rows,
    and a failed or cancelled turn (which stores no messages) still has the rows of
    what it consumed, written when it ends. Refused calls write nothing."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def before(self, call: CallInfo) -> None:
        """Never refuses."""

    async def after(self, call: CallInfo, result: CallResult) -> None:
        """Insert the call's row (``turn_id``: the turn, else the call id)."""
        await self._store.record_usage(call.turn_id or call.call_id, UsageRecord(
            platform=call.chat.platform, chat_id=call.chat.chat_id,
            user_id=call.actor.user_id, model=call.model, usage=result.usage,
            kind=call.kind, cost=result.cost, outcome=result.outcome,
            units=result.units, unit=result.unit))
