"""The inbound pipeline: one policy for every platform's incoming messages.

An adapter translates a platform message into a neutral ``Inbound`` and calls
``await core.receive(inbound)``; the core decides what it is and answers with one
``InboundResult``:

- ``CommandReply``: a command ran; show the reply.
- ``TurnTicket``: a turn was submitted; present its events.
- ``Ignored``: not for the bot (a group message not addressed to it, another bot's
  command, nothing readable); show nothing.
- ``Refusal``: a localized text to show instead of a turn (unknown command, unreadable
  content, an unsupported/oversized attachment, an image for a text-only model…).

Policy (docs/ARCHITECTURE.md, "Inbound pipeline"):

1. A text starting with ``/name`` (after the adapter removed the bot's mention) is a
   command line. ``/name@other`` (another bot's username) → ignored everywhere.
2. A known command runs in any chat, whatever the reply mode (``/ask`` — ``/chat`` on
   Discord — is a turn; without a question nor a file → usage refusal).
3. An unknown command → "unknown command, see /help" when addressed (a private chat,
   ``/name@bot``, a mention, a reply to the bot, a thread the bot opened), else ignored
   (in a group it may belong to another bot).
4. Content the bot cannot read (stickers, voice…) → a notice when addressed, else ignored.
5. Other messages: private chats → a turn; groups by the chat's reply mode: ``all`` →
   a turn; ``mention`` → a turn when addressed; ``command`` → ignored.
6. A turn's attachments are judged from their metadata (size, type, the model's vision)
   before anything is downloaded; then fetched and prepared in worker threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from core.commands.parser import split_command
from core.commands.replies import CommandReply
from core.commands.spec import CommandSpec, ParamKind
from core.conversation.inputs import DocumentInput, ImageInput, UserMessage
from core.conversation.keys import Actor, ChatRef
from core.conversation.tickets import TurnTicket
from core.errors import UserInputError
from core.media import AttachmentKind, AttachmentRef, attachment_kind

if TYPE_CHECKING:
    from core.app import ChatCore

__all__ = ["AttachmentKind", "AttachmentRef", "Ignored", "Inbound", "InboundPipeline",
           "InboundResult", "Refusal", "attachment_kind", "command_head", "image_args"]

VISION_SUGGESTIONS = 6
"""Vision models named when an image goes to a text-only model."""


@dataclass(frozen=True, slots=True)
class Inbound:
    """One incoming platform message (or album), described neutrally by the adapter.

    ``text``: the message text/caption with the bot's own mention removed.
    ``mentions_bot``: the bot was mentioned; ``replies_to_bot``: it replies to one of
    the bot's messages; ``in_bot_thread``: it was posted in a thread the bot opened
    (Discord). ``bot_username``: the bot's username, to tell ``/cmd@bot`` from
    ``/cmd@other``. ``attachments``: lazily fetched files (nothing is downloaded unless a
    turn takes them). ``unreadable``: the kind of content the bot cannot read
    ("sticker", "voice", "poll"…; "" when none). ``may_continue``: the text is probably
    one part of a longer paste the client split (the core waits for the rest).
    """

    chat: ChatRef
    actor: Actor
    text: str = ""
    mentions_bot: bool = False
    replies_to_bot: bool = False
    in_bot_thread: bool = False
    bot_username: str = ""
    attachments: tuple[AttachmentRef, ...] = ()
    unreadable: str = ""
    may_continue: bool = False
    message_id: str = ""
    """The platform id of the message (commands get it as ``reply_to``: results posted
    later, e.g. a Midjourney result after a restart, reply to it); "" when unknown."""

    @property
    def addressed(self) -> bool:
        """Whether the message is clearly meant for the bot (private, mention, reply…)."""
        return (self.chat.is_private or self.mentions_bot or self.replies_to_bot
                or self.in_bot_thread)


IgnoredReason = Literal["not_addressed", "other_bot", "unknown_command", "empty"]


@dataclass(frozen=True, slots=True)
class Ignored:
    """Show nothing: ``reason`` says why (for logs and tests)."""

    reason: IgnoredReason


@dataclass(frozen=True, slots=True)
class Refusal:
    """A localized text to show instead of a turn; ``keys`` are its i18n keys."""

    text: str
    keys: tuple[str, ...] = ()


InboundResult = CommandReply | TurnTicket | Ignored | Refusal


def command_head(text: str) -> tuple[str, str] | None:
    """``("model", "bot")`` for ``/model@bot gpt-4``, ``("model", "")`` for ``/model``;
    None when the text is not a command line (``/usr/bin`` is not)."""
    if split_command(text) is None:
        return None
    head = text.lstrip()[1:].split(None, 1)[0]
    name, _, target = head.partition("@")
    return name.lower(), target


def image_args(spec: CommandSpec, args: Mapping[str, Any],
               images: Sequence[ImageInput]) -> dict[str, Any]:
    """Attached images as command arguments: they fill the spec's image parameters not
    given yet, in declared order (``/swap``: face, target; ``/edit``: image, mask); the
    rest go to ``images`` (``/mj`` reference images). ``{}`` without images."""
    free = [p.name for p in spec.params if p.kind is ParamKind.IMAGE and args.get(p.name) is None]
    out: dict[str, Any] = dict(zip(free, images, strict=False))
    rest = list(images[len(out):])
    if rest:
        out["images"] = tuple(rest)
    return out


class InboundPipeline:
    """Decides what an ``Inbound`` is and runs it (``ChatCore.receive``)."""

    def __init__(self, core: ChatCore) -> None:
        self._core = core

    async def receive(self, message: Inbound) -> InboundResult:
        """Apply the policy (module docstring) to one message."""
        head = command_head(message.text)
        if head is not None:
            target = head[1].lower()
            if target and message.bot_username and target != message.bot_username.lower():
                return Ignored("other_bot")
            return await self._command(message, message.addressed or bool(target))
        if message.unreadable:
            if not message.addressed:
                return Ignored("not_addressed")
            return await self._refuse(message.chat, message.actor,
                                      "error.unsupported_message")
        if not message.chat.is_private:
            mode = (await self._core.chat_options(message.chat)).reply_mode
            if mode == "command" or (mode == "mention" and not message.addressed):
                return Ignored("not_addressed")
        if not message.text.strip() and not message.attachments:
            return Ignored("empty")
        return await self.ask(message.chat, message.actor, message.text, message.attachments,
                              may_continue=message.may_continue)

    async def _command(self, message: Inbound, addressed: bool) -> InboundResult:
        core, chat, actor = self._core, message.chat, message.actor
        try:
            parsed = core.parse_command(message.text, chat.platform, message.bot_username)
        except UserInputError as exc:
            return Refusal(core.error_text(exc, await core.language_for(chat, actor)),
                           (exc.key,))
        if parsed is None:  # unreachable after command_head; kept for safety
            return Ignored("other_bot")
        spec = parsed.spec
        if spec is None:
            if not addressed:
                return Ignored("unknown_command")
            return await self._refuse(chat, actor, "error.unknown_command", name=parsed.name)
        if spec.name != "ask":
            args = dict(parsed.args)
            if message.message_id:
                args.setdefault("reply_to", message.message_id)
            if message.attachments and any(p.kind is ParamKind.IMAGE for p in spec.params):
                refs = [ref for ref in message.attachments if ref.kind == "image"]
                images = await self.load_images(message.chat, message.actor, refs)
                if isinstance(images, Refusal):
                    return images
                args.update(image_args(spec, args, images))
            return await core.run_command(spec.name, args, chat, actor)
        prompt = str(parsed.args.get("prompt") or "")
        model = parsed.args.get("model")
        if not prompt.strip() and not message.attachments:
            return await self._refuse(chat, actor, "cmd.ask_usage",
                                      ask=spec.name_on(chat.platform))
        return await self.ask(chat, actor, prompt, message.attachments,
                              model_override=str(model) if model else None,
                              may_continue=message.may_continue)

    async def ask(self, chat: ChatRef, actor: Actor, text: str,
                  attachments: Sequence[AttachmentRef] = (), *,
                  model_override: str | None = None,
                  may_continue: bool = False) -> TurnTicket | Refusal:
        """Submit a turn (a native ``/chat`` command calls this directly).

        Every attachment is checked from its metadata first (``MediaPreparer.check``),
        then images against the model's vision: any problem → a ``Refusal`` listing all
        problems and nothing is downloaded. Then the files are fetched and prepared (in
        worker threads); a fetch/prepare problem → a ``Refusal`` and no turn.
        """
        core = self._core
        lang = await core.language_for(chat, actor)
        problems: list[UserInputError] = []
        for ref in attachments:
            try:
                core.media.check(ref)
            except UserInputError as exc:
                problems.append(exc)
        if not problems and any(ref.kind == "image" for ref in attachments):
            model = await core.model_for(chat, actor, model_override)
            if model is not None and not model.vision:
                names = [m.name for m in core.catalog.vision_models()[:VISION_SUGGESTIONS]]
                problems.append(UserInputError("error.no_vision", model=model.name,
                                               models=", ".join(names) or "-"))
        if problems:
            return self._refusal(problems, lang)
        loaded = await asyncio.gather(*(self._load(ref) for ref in attachments))
        problems = [item for item in loaded if isinstance(item, UserInputError)]
        if problems:
            return self._refusal(problems, lang)
        user_message = UserMessage(
            text=text.strip(),
            images=tuple(item for item in loaded if isinstance(item, ImageInput)),
            documents=tuple(item for item in loaded if isinstance(item, DocumentInput)),
            model_override=model_override)
        return await core.submit(chat, actor, user_message, expect_more=may_continue)

    async def load_images(self, chat: ChatRef, actor: Actor, refs: Sequence[AttachmentRef]
                          ) -> list[ImageInput] | Refusal:
        """Images for a command's image parameters (an album's photos, a slash command's
        attachment options): checked from metadata (``MediaPreparer.check``), then fetched
        and prepared; any problem → a ``Refusal`` listing them all."""
        lang = await self._core.language_for(chat, actor)
        problems: list[UserInputError] = []
        for ref in refs:
            try:
                if ref.kind != "image":
                    raise UserInputError("error.file_unsupported", filename=ref.name)
                self._core.media.check(ref)
            except UserInputError as exc:
                problems.append(exc)
        if problems:
            return self._refusal(problems, lang)
        loaded = await asyncio.gather(*(self._load(ref) for ref in refs))
        problems = [item for item in loaded if isinstance(item, UserInputError)]
        if problems:
            return self._refusal(problems, lang)
        return [item for item in loaded if isinstance(item, ImageInput)]

    async def _load(self, ref: AttachmentRef) -> ImageInput | DocumentInput | UserInputError:
        try:
            return await self._core.media.load(ref)
        except UserInputError as exc:
            return exc

    def _refusal(self, problems: Sequence[UserInputError], lang: str) -> Refusal:
        return Refusal("\n".join(self._core.error_text(p, lang) for p in problems),
                       tuple(p.key for p in problems))

    async def _refuse(self, chat: ChatRef, actor: Actor, key: str, **params: Any) -> Refusal:
        lang = await self._core.language_for(chat, actor)
        return self._refusal([UserInputError(key, **params)], lang)
