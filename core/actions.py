"""Actions: what a button does when pressed, stored so it works after a restart.

A button (``core.parts.Action``) carries only a short opaque id. ``ActionService``
stores the id with the action's ``kind``, JSON ``payload``, chat, owner and ``who``
may press it in the ``actions`` table; pressing runs the handler registered for the
kind. Adapters encode the id on their platform (Telegram ``callback_data`` ``a:<id>``,
Discord ``custom_id`` ``cb:a:<id>``) and call ``ChatCore.run_action``, or
``ChatCore.press_action`` to answer the press before its work runs (``Press``).

One action never runs twice at once: while a press's handler runs, and until the turn or
job it started (``ActionOutcome.ticket``) ends, another press of the same id (a double
tap, two group members pressing U2 together) is answered with ``action.busy`` and runs
nothing. A press after that runs it again (Midjourney's own buttons work so too).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, get_args

from core.commands.replies import CommandReply
from core.conversation.keys import Actor, ChatRef
from core.conversation.tickets import TurnTicket
from core.errors import ChatbridgeError, UserInputError
from core.i18n import t
from core.parts import ACTION_ID_MAX, Who
from core.storage.actions_repo import ActionsRepository, StoredAction
from core.storage.schema import utc_now

if TYPE_CHECKING:
    from core.app import ChatCore

log = logging.getLogger(__name__)

ID_BYTES = 12
"""Random bytes per id: ``secrets.token_urlsafe(12)`` is 16 URL-safe characters."""
_ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{1,{ACTION_ID_MAX}}}")
_WHO: tuple[str, ...] = get_args(Who)
ANSWER_KIND = "message.answer"
"""Kind of the stored binding "a reply to this platform message answers that action"
(no handler: its id cannot be pressed)."""
PURGE_EVERY = 1000
"""Expired actions are deleted at start-up and after every this many created ones."""


@dataclass(frozen=True, slots=True)
class ActionContext:
    """A button press: the action's ``kind``/``payload`` and who pressed it where.

    ``lang`` is the presser's language; ``core`` the running ``ChatCore``."""

    kind: str
    payload: dict[str, Any]
    chat: ChatRef
    actor: Actor
    owner_id: str
    lang: str
    core: ChatCore
    action_id: str = ""


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What pressing a button produced.

    ``notice``: short localized text (Telegram ``answerCallbackQuery`` text, shown as
    an alert when ``alert``; Discord: an ephemeral message). ``reply``: a reply to
    post; with ``replace`` it replaces the message that carried the button.
    ``ticket``: a turn the action started (present it like a submitted turn).
    ``prompt``: ask the presser for a text (see ``PromptRequest``).
    """

    notice: str = ""
    alert: bool = False
    reply: CommandReply | None = None
    replace: bool = False
    ticket: TurnTicket | None = None
    prompt: PromptRequest | None = None


@dataclass(frozen=True, slots=True)
class PromptRequest:
    """A button needs a text from the presser before it can run (a Midjourney modal:
    Custom Zoom, Vary Region, remix).

    Adapters render it natively — Telegram: a message with ``label`` and a ForceReply
    (``input_field_placeholder`` = ``placeholder``, Bot API: 0-64 chars) showing
    ``default_text`` to copy; Discord: a Modal with one paragraph TextInput (label
    ``label`` clipped to 45 chars, value ``default_text``, max ``max_length``) — and
    pass the answer to ``ChatCore.submit_prompt(action_id, text, chat, actor,
    mask=None)``, which returns a ``CommandReply`` (with a ``ticket`` to present).
    ``accepts_mask``: a photo sent with the answer (Telegram: a photo replying with a
    caption) may be passed as ``mask`` bytes (Vary Region: white = the area to
    redraw). ``action_id`` is an ordinary action id (who/expiry checked at submit).
    """

    action_id: str
    label: str
    default_text: str = ""
    placeholder: str = ""
    max_length: int = 4000
    accepts_mask: bool = False


ActionHandler = Callable[[ActionContext], Awaitable[ActionOutcome]]
WhoResolver = Callable[[ChatRef], Awaitable[Who]]
"""Who may press a kind's buttons in a chat, decided at press time (e.g. the chat
setting ``image_buttons``); it replaces the ``who`` stored with the action."""
ActionSpec = tuple[str, dict[str, Any]]
"""``(kind, payload)`` of one action to create."""


class Press:
    """A checked button press (``ActionService.press``).

    ``outcome`` is set when the press is answered at once and runs nothing (unknown,
    expired, not yours, already running): show it as the press's answer. Otherwise
    ``outcome`` is None and ``run()`` must be awaited once: it runs the action's handler
    (it may call the gateway and take seconds) and returns its outcome; it never raises
    for user errors (they become an ``alert`` notice)."""

    def __init__(self, outcome: ActionOutcome | None,
                 work: Callable[[], Awaitable[ActionOutcome]] | None = None) -> None:
        self.outcome = outcome
        self._work = work

    async def run(self) -> ActionOutcome:
        """The outcome: ``outcome`` for an answered press, else the handler's (once)."""
        if self.outcome is not None:
            return self.outcome
        assert self._work is not None, "Press.run() awaited twice"
        work, self._work = self._work, None
        return await work()


class ActionService:
    """Creates actions and runs them when their button is pressed.

    ``clock`` returns the current UTC time (tests replace it to check expiry)."""

    def __init__(self, repo: ActionsRepository, core: ChatCore,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._repo = repo
        self._core = core
        self._handlers: dict[str, ActionHandler] = {}
        self._answers: dict[str, bool] = {}
        self._who: dict[str, WhoResolver] = {}
        self.clock = clock
        self.purge_every = PURGE_EVERY
        self._created = 0
        self._busy: dict[str, TurnTicket | None] = {}
        """Action id -> None while its handler runs, then the ticket it started until
        that ends (in memory: a restart forgets it)."""

    def register(self, kind: str, handler: ActionHandler, *,
                 who: WhoResolver | None = None) -> None:
        """Run ``handler`` for presses of actions of ``kind`` (replaces an earlier one);
        ``who``: decide who may press at press time instead of the stored ``who``."""
        self._handlers[kind] = handler
        if who is None:
            self._who.pop(kind, None)
        else:
            self._who[kind] = who

    def register_answer(self, kind: str, *, accepts_mask: bool = False) -> None:
        """A reply to a message carrying a button of ``kind`` answers that action like a
        ``PromptRequest`` (see ``bound_to``); ``accepts_mask``: an image sent with the
        reply is the mask."""
        self._answers[kind] = accepts_mask

    def kinds(self) -> list[str]:
        """Registered action kinds."""
        return list(self._handlers)

    async def create(self, kind: str, payload: dict[str, Any], *, chat: ChatRef,
                     owner_id: str, who: Who = "requester", ttl: float | None = None) -> str:
        """Store an action and return its id (16 URL-safe chars, at most ACTION_ID_MAX).

        ``payload`` must be JSON-serializable; ``ttl`` is in seconds (None: never
        expires). Raises ValueError for an unknown ``who``."""
        return (await self.create_many([(kind, payload)], chat=chat, owner_id=owner_id,
                                       who=who, ttl=ttl))[0]

    async def create_many(self, specs: Sequence[ActionSpec], *, chat: ChatRef, owner_id: str,
                          who: Who = "requester", ttl: float | None = None) -> list[str]:
        """Store several actions (one transaction); ids in the order of ``specs``."""
        if who not in _WHO:
            raise ValueError(f"who must be one of {_WHO}, not {who!r}")
        now = self.clock()
        expires = None if ttl is None else now + timedelta(seconds=ttl)
        rows = [StoredAction(id=secrets.token_urlsafe(ID_BYTES), kind=kind,
                             platform=chat.platform, chat_id=chat.chat_id, owner_id=owner_id,
                             who=who, payload=dict(payload), created_at=now,
                             expires_at=expires)
                for kind, payload in specs]
        await self._repo.insert(rows)
        self._created += len(rows)
        if self._created >= self.purge_every:  # keep the table small on long runs
            self._created = 0
            await self.purge_expired()
        return [row.id for row in rows]

    async def bind_message(self, action_id: str, chat: ChatRef, message_id: str,
                           **extra: Any) -> None:
        """Remember that a reply to the platform message ``message_id`` in ``chat`` answers
        the action ``action_id`` (a ``PromptRequest``: Telegram's ForceReply message,
        Discord's region picker). Stored in the actions table under an id derived from
        the message (so it survives a restart), with the owner, ``who`` and expiry of
        ``action_id``; ``extra`` (JSON values) comes back from ``bound_to``. Nothing is
        stored when ``action_id`` is unknown."""
        target = await self._repo.get(action_id)
        if target is None:
            return
        key = _message_key(chat, message_id)
        await self._repo.delete(key)
        await self._repo.insert([StoredAction(
            id=key, kind=ANSWER_KIND, platform=chat.platform, chat_id=chat.chat_id,
            owner_id=target.owner_id, who=target.who,
            payload={**extra, "action_id": action_id}, created_at=self.clock(),
            expires_at=target.expires_at)])

    async def bound_to(self, chat: ChatRef, message_id: str,
                       action_ids: Sequence[str] = ()) -> dict[str, Any] | None:
        """What a reply to the platform message ``message_id`` in ``chat`` answers:
        ``{"action_id": ..., "accepts_mask": bool, **extra}`` of ``bind_message``, else
        the first of ``action_ids`` (the buttons on that message) whose kind was
        registered with ``register_answer``. None when nothing answers there or the
        action is gone (used, expired, deleted): the reply is then an ordinary message."""
        binding = await self._repo.get(_message_key(chat, message_id))
        if binding is not None and binding.kind == ANSWER_KIND and self._usable(
                binding, chat) and await self._live(str(binding.payload.get("action_id"))):
            return {"accepts_mask": False, **binding.payload}
        for action_id in action_ids:
            row = (await self._repo.get(action_id) if _ID_PATTERN.fullmatch(action_id)
                   else None)
            if row is not None and row.kind in self._answers and self._usable(row, chat):
                return {"action_id": row.id, "accepts_mask": self._answers[row.kind]}
        return None

    def _usable(self, row: StoredAction, chat: ChatRef) -> bool:
        return (row.platform, row.chat_id) == (chat.platform, chat.chat_id) and (
            row.expires_at is None or row.expires_at > self.clock())

    async def _live(self, action_id: str) -> bool:
        row = await self._repo.get(action_id) if _ID_PATTERN.fullmatch(action_id) else None
        return row is not None and (row.expires_at is None or row.expires_at > self.clock())

    async def forget(self, action_id: str) -> bool:
        """Delete an action (its button then answers "no longer available")."""
        return await self._repo.delete(action_id)

    async def purge_expired(self) -> int:
        """Delete expired actions; returns how many."""
        return await self._repo.delete_expired(self.clock())

    async def run(self, action_id: str, chat: ChatRef, actor: Actor) -> ActionOutcome:
        """Run the action ``action_id`` pressed by ``actor`` in ``chat``: ``press`` then
        ``Press.run`` (the whole outcome at the end).

        Unknown ids (or ids from another chat), expired actions and presses by someone
        ``who`` excludes get a polite localized notice with ``alert=True``; so do user
        errors raised by the handler; a press of a running action gets ``action.busy``.
        Never raises for those."""
        return await (await self.press(action_id, chat, actor)).run()

    async def press(self, action_id: str, chat: ChatRef, actor: Actor) -> Press:
        """Check a press of ``action_id`` by ``actor`` in ``chat`` without running it
        (no gateway call: one database read and the chat's settings): a ``Press``
        answered at once with a notice (as ``run``: unknown, expired, not yours, and
        ``action.busy`` without ``alert`` while the same action runs), or one to run.
        An accepted press counts as running from now on, so call its ``run()``."""
        lang = await self._core.language_for(chat, actor)
        row = await self._repo.get(action_id) if _ID_PATTERN.fullmatch(action_id) else None
        handler = self._handlers.get(row.kind) if row is not None else None
        if row is None or handler is None or (row.platform, row.chat_id) != (
                chat.platform, chat.chat_id):
            if row is not None and handler is None:
                log.warning("no handler for action kind %s", row.kind)
            return Press(_notice("action.unknown", lang))
        if row.expires_at is not None and row.expires_at <= self.clock():
            return Press(_notice("action.expired", lang))
        resolver = self._who.get(row.kind)
        refusal = self._refusal(row, chat, actor,
                                await resolver(chat) if resolver is not None else row.who)
        if refusal:
            return Press(_notice(refusal, lang))
        if self._running(row.id):
            return Press(ActionOutcome(notice=t("action.busy", lang)))
        self._busy[row.id] = None  # no await since the check: one press wins
        context = ActionContext(kind=row.kind, payload=row.payload, chat=chat, actor=actor,
                                owner_id=row.owner_id, lang=lang, core=self._core,
                                action_id=row.id)
        return Press(None, lambda: self._work(handler, context))

    async def _work(self, handler: ActionHandler, context: ActionContext) -> ActionOutcome:
        """Run ``handler``; the action stays busy until the ticket it started ends."""
        ticket: TurnTicket | None = None
        try:
            outcome = await handler(context)
            ticket = outcome.ticket or (outcome.reply.ticket if outcome.reply else None)
            return outcome
        except ChatbridgeError as exc:
            return ActionOutcome(notice=self._core.error_text(exc, context.lang), alert=True)
        except Exception:
            log.exception("action %s (%s) failed", context.action_id, context.kind)
            return _notice("error.internal", context.lang)
        finally:
            if ticket is None or ticket.result is not None:
                self._busy.pop(context.action_id, None)
            else:
                self._busy[context.action_id] = ticket

    def _running(self, action_id: str) -> bool:
        """Whether ``action_id`` is busy; forgets the tickets that have ended."""
        for done in [key for key, ticket in self._busy.items()
                     if ticket is not None and ticket.result is not None]:
            del self._busy[done]
        return action_id in self._busy

    async def resolve(self, action_id: str, chat: ChatRef, actor: Actor) -> StoredAction:
        """The stored action ``actor`` may use in ``chat`` (for entries that take more
        than a press, e.g. ``ChatCore.submit_prompt``). Raises ``UserInputError`` with
        the same notice keys as ``run`` (unknown / expired / not yours)."""
        row = await self._repo.get(action_id) if _ID_PATTERN.fullmatch(action_id) else None
        if row is None or (row.platform, row.chat_id) != (chat.platform, chat.chat_id):
            raise UserInputError("action.unknown")
        if row.expires_at is not None and row.expires_at <= self.clock():
            raise UserInputError("action.expired")
        refusal = self._refusal(row, chat, actor, row.who)
        if refusal:
            raise UserInputError(refusal)
        return row

    def _refusal(self, row: StoredAction, chat: ChatRef, actor: Actor, who: str) -> str:
        """The notice key refusing ``actor``, or "" when they may press the button.

        ``admins``: chat admins, bot admins, and anyone in a private chat (the chat
        is theirs), as for chat-admin commands."""
        if who not in _WHO:  # fail closed on a row this version does not know
            return "action.unknown"
        if who == "requester" and actor.user_id != row.owner_id:
            return "action.not_yours"
        if who == "admins" and not (
                actor.is_chat_admin or self._core.is_bot_admin(actor) or chat.is_private):
            return "action.admins_only"
        return ""


def _message_key(chat: ChatRef, message_id: str) -> str:
    """An action id (21 URL-safe chars) derived from a platform message."""
    digest = hashlib.sha256(f"{chat.platform}:{chat.chat_id}:{message_id}".encode()).digest()
    return "m" + base64.urlsafe_b64encode(digest).decode()[:20]


def _notice(key: str, lang: str) -> ActionOutcome:
    return ActionOutcome(notice=t(key, lang), alert=True)
