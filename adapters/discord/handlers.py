"""Messages, turns, slash-command and button handlers.

A message becomes one ``core.inbound.Inbound`` (mention removed, reply-to-bot, thread
the bot opened, lazy attachment refs); the core decides whether it is a command, a turn
or nothing (``ChatCore.receive``, policy in docs/ARCHITECTURE.md). Slash commands stay
native; ``/chat`` submits through ``core.inbound.ask`` (the same attachment checks).

Conversation keys: a guild channel is ``ChatRef(chat_id=<channel>)``; a thread is
``ChatRef(chat_id=<parent channel>, thread_id=<thread>)`` — its own history, but the
parent's chat settings (model, mode); a DM is ``ChatRef(chat_id=<dm channel>,
is_private=True)``. Threads the bot opened count as addressed to it.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import discord
from discord.app_commands import Choice

from adapters.common.presentations import Presentations
from adapters.discord import attachments, prompts
from adapters.discord.buttons import ActionButtons
from adapters.discord.commands import language_of
from adapters.discord.host import BotHost, Place
from adapters.discord.render import split_message
from adapters.discord.streaming import NO_MENTIONS, ChannelSink, InteractionSink, Sink
from adapters.discord.surface import actions_view
from adapters.discord.ui import CancelView, turn_of
from core.commands.replies import CommandReply
from core.commands.spec import CommandSpec
from core.conversation.keys import Actor, ChatRef
from core.conversation.tickets import TurnTicket
from core.events import TurnEvent, TurnFailed
from core.inbound import Inbound, Refusal

log = logging.getLogger(__name__)

PLATFORM = "discord"
JOB_COMMANDS = frozenset({"image", "edit", "vary", "mj", "blend", "describe", "shorten",
                          "swap"})
"""Commands starting image jobs: public, and their results reply to the command's
response (its id is passed as ``reply_to``, kept for results posted after a restart)."""
PUBLIC_COMMANDS = frozenset({"help", "models", "new"}) | JOB_COMMANDS
"""Commands whose answers are public; the rest (settings) are deferred ephemerally."""
THREAD_NAME_LIMIT = 100
OPENED_THREADS_MAX = 4096
"""Threads opened by /chat remembered for gating; older ones rely on the thread's owner."""

Reporter = Callable[[str], Awaitable[None]]


@dataclass(slots=True)
class LiveTurn:
    """A streaming turn whose Cancel button is live."""

    ticket: TurnTicket
    user_id: int


class Handlers:
    """Everything the client dispatches: messages, slash commands, autocomplete, buttons."""

    def __init__(self, bot: BotHost) -> None:
        self.bot = bot
        self.core = bot.core
        self.live: dict[str, LiveTurn] = {}
        self.presentations = Presentations()
        self.opened_threads: OrderedDict[int, int] = OrderedDict()  # thread -> parent (LRU)
        self.opened_threads_max = OPENED_THREADS_MAX
        self._own_messages: OrderedDict[int, None] = OrderedDict()
        self._locales: OrderedDict[int, str] = OrderedDict()
        self.buttons = ActionButtons(self)

    # ---- mapping ------------------------------------------------------------------------
    def place_of(self, channel: Any, channel_id: int, guild_id: int | None) -> Place:
        """The ``Place`` of a channel (``channel`` may be partial/unknown)."""
        me = self.bot.client.user.id if self.bot.client.user else 0
        if guild_id is None or isinstance(channel, (discord.DMChannel, discord.GroupChannel)):
            return Place(ChatRef(PLATFORM, str(channel_id), "", True), channel_id)
        if isinstance(channel, discord.Thread) or channel_id in self.opened_threads:
            if channel_id in self.opened_threads:
                self.opened_threads.move_to_end(channel_id)
            parent = getattr(channel, "parent_id", None) or self.opened_threads[channel_id]
            owner = getattr(channel, "owner_id", None)
            mine = owner == me or channel_id in self.opened_threads
            return Place(ChatRef(PLATFORM, str(parent), str(channel_id)), channel_id, mine)
        can_thread = isinstance(channel, discord.TextChannel)
        return Place(ChatRef(PLATFORM, str(channel_id)), channel_id, can_thread=can_thread)

    def actor_of(self, user: discord.User | discord.Member, locale: str | None) -> Actor:
        """The core ``Actor``; chat admin = Manage Server or Administrator."""
        if locale:
            self._remember(self._locales, user.id, locale)
        else:
            locale = self._locales.get(user.id)
        admin = False
        if isinstance(user, discord.Member):
            perms = user.guild_permissions
            admin = perms.manage_guild or perms.administrator
        return Actor(PLATFORM, str(user.id), user.display_name, locale or "", admin)

    @staticmethod
    def _remember(cache: OrderedDict[int, Any], key: int, value: Any, size: int = 4096) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)

    def remember_message(self, message_id: int) -> None:
        """Note a message the bot sent (replies to it continue the conversation)."""
        self._remember(self._own_messages, message_id, None)

    # ---- messages -----------------------------------------------------------------------
    async def on_message(self, message: discord.Message) -> None:
        """Translate a message into an ``Inbound``; the core decides, we show the result."""
        client = self.bot.client
        if message.author.bot or client.user is None or message.author.id == client.user.id:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        place = self.place_of(message.channel, message.channel.id,
                              message.guild.id if message.guild else None)
        answer = await prompts.answer_of(self.core, place.chat, message)
        if answer is not None:  # a reply to a prompt (the Vary Region picker)
            await self.buttons.answer(message, place.chat, self.actor_of(message.author, None),
                                      answer)
            return
        inbound = Inbound(
            place.chat, self.actor_of(message.author, None),
            re.sub(rf"<@!?{client.user.id}>", "", message.content).strip(),
            mentions_bot=any(user.id == client.user.id for user in message.mentions),
            replies_to_bot=self._replies_to_bot(message), in_bot_thread=place.bot_thread,
            bot_username=client.user.name,
            attachments=attachments.attachment_refs(message.attachments),
            unreadable="sticker" if message.stickers else "poll" if message.poll else "",
            message_id=str(message.id))
        result = await self.core.receive(inbound)
        reply = self._channel_reporter(message)
        if isinstance(result, CommandReply):  # e.g. /cancel: after the answer's ⏹ text
            await self.presentations.settle(str(place.channel_id))
        if isinstance(result, CommandReply) and (result.ticket or result.parts or
                                                 result.actions):  # e.g. a typed /mj
            lang = await self.core.language_for(place.chat, inbound.actor)
            await self.buttons.present_reply(
                ChannelSink(message.channel, place.channel_id, reply_to=message), result,
                lang, message.author.id)
        elif isinstance(result, (Refusal, CommandReply)):  # a text reply (no ephemeral here)
            await reply(result.text)
        elif isinstance(result, TurnTicket):
            sink = ChannelSink(message.channel, place.channel_id, reply_to=message)
            await self.present(result, sink, message.author.id, reply)

    def _replies_to_bot(self, message: discord.Message) -> bool:
        ref = message.reference
        if ref is None or ref.message_id is None:
            return False
        resolved = ref.resolved
        if isinstance(resolved, discord.Message) and self.bot.client.user is not None:
            return resolved.author.id == self.bot.client.user.id
        return ref.message_id in self._own_messages

    def _channel_reporter(self, message: discord.Message) -> Reporter:
        async def report(text: str) -> None:
            for index, chunk in enumerate(split_message(text)):
                await self.bot.throttle.wait(message.channel.id)
                sent = await message.channel.send(
                    chunk, allowed_mentions=NO_MENTIONS,
                    reference=message.to_reference(fail_if_not_exists=False) if not index
                    else None)  # type: ignore[arg-type]
                self.remember_message(sent.id)
        return report

    # ---- turns --------------------------------------------------------------------------
    async def present(self, ticket: TurnTicket, sink: Sink, user_id: int,
                      report: Reporter) -> None:
        """Stream the ticket into ``sink``; a failure is reported through ``report``."""
        lang = ticket.language
        turn_ids: list[str] = []

        def make_view(turn_id: str) -> discord.ui.View | None:
            if not turn_id:
                return None
            turn_ids.append(turn_id)
            self.live[turn_id] = LiveTurn(ticket, user_id)
            view = CancelView(turn_id, self.core.t("discord.cancel_button", lang), self.on_cancel)
            return view

        presenter = self.bot.presenter(sink, make_view=make_view,
                                       cancelled_note=self.core.t("turn.cancelled", lang))
        terminal: TurnEvent | None = None
        try:
            with self.presentations.presenting(str(sink.channel_id), ticket):
                terminal = await presenter.present(ticket)
        finally:
            for turn_id in turn_ids:
                self.live.pop(turn_id, None)
            if terminal is None:  # presenting died: stop the core streaming (and billing) it
                ticket.cancel()
            if presenter.unreachable:  # and the turns queued for that channel
                self.core.cancel_chat(PLATFORM, str(sink.channel_id))
        if isinstance(terminal, TurnFailed):  # the length note comes with the answer
            await report(self.core.failure_notice(terminal, lang))

    async def on_cancel(self, interaction: discord.Interaction, turn_id: str) -> None:
        """The Cancel button: the asker or a chat admin stops the turn."""
        lang = language_of(interaction.locale)
        live = self.live.get(turn_id)
        if live is None:
            await interaction.response.send_message(
                self.core.t("turn.nothing_to_cancel", lang), ephemeral=True)
            return
        actor = self.actor_of(interaction.user, str(interaction.locale))
        if interaction.user.id != live.user_id and not actor.is_chat_admin:
            await interaction.response.send_message(
                self.core.t("discord.cancel_not_yours", lang), ephemeral=True)
            return
        live.ticket.cancel()
        await interaction.response.defer()

    async def on_component(self, interaction: discord.Interaction) -> None:
        """Stale Cancel buttons (e.g. after a restart): acknowledge and remove them.
        (Action buttons are the persistent ``ActionButton`` dynamic items.)"""
        if interaction.type is not discord.InteractionType.component:
            return
        data = cast(dict[str, Any], interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        turn_id = turn_of(custom_id)
        if turn_id is None or turn_id in self.live or interaction.response.is_done():
            return
        try:
            await interaction.response.edit_message(view=None)
        except discord.HTTPException as exc:
            log.debug("could not clear a stale cancel button: %s", exc)

    # ---- slash commands -----------------------------------------------------------------
    def _interaction_place(self, interaction: discord.Interaction) -> Place:
        return self.place_of(interaction.channel, interaction.channel_id or 0,
                             interaction.guild_id)

    async def on_autocomplete(self, interaction: discord.Interaction, source: str,
                              current: str) -> list[Choice[str]]:
        """Choices from ``core.complete`` (value = model name, label with vendor)."""
        return [Choice(name=c.label[:100], value=c.value[:100])
                for c in self.core.complete(source, current, limit=25)]

    async def on_command(self, interaction: discord.Interaction, spec: CommandSpec,
                         values: dict[str, Any]) -> None:
        """Every slash command: defer at once, then run it through the core."""
        if spec.name == "ask":
            await self.chat_command(interaction, values)
            return
        ephemeral = spec.name not in PUBLIC_COMMANDS
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        place = self._interaction_place(interaction)
        actor = self.actor_of(interaction.user, str(interaction.locale))
        args = await attachments.command_images(self.core, place.chat, actor, values)
        if isinstance(args, Refusal):
            reply = CommandReply(args.text, ephemeral=True, is_error=True)
        else:
            if spec.name in JOB_COMMANDS:  # the deferred ("thinking") response is public
                args = {**args, "reply_to": str((await interaction.original_response()).id)}
            reply = await self.core.run_command(spec.name, args, place.chat, actor)
            await self.presentations.settle(str(place.channel_id))  # /cancel: after ⏹
        await self.send_reply(interaction, reply, deferred_ephemeral=ephemeral)

    async def send_reply(self, interaction: discord.Interaction, reply: CommandReply, *,
                         deferred_ephemeral: bool) -> None:
        """Show a ``CommandReply`` (split at 2000 chars); errors are always ephemeral."""
        ephemeral = reply.ephemeral or reply.is_error
        request = await self.respond(interaction, reply.text, ephemeral=ephemeral,
                                     deferred_ephemeral=deferred_ephemeral,
                                     view=actions_view(reply.actions))
        if (reply.parts or reply.ticket) and isinstance(interaction.channel,
                                                        discord.abc.Messageable):
            place = self._interaction_place(interaction)
            actor = self.actor_of(interaction.user, str(interaction.locale))
            sink = ChannelSink(interaction.channel, place.channel_id,  # results reply to it
                               reply_to=None if ephemeral else request)
            await self.buttons.present_reply(sink, reply, await self.core.language_for(
                place.chat, actor), interaction.user.id, text=False)

    async def respond(self, interaction: discord.Interaction, text: str, *, ephemeral: bool,
                      deferred_ephemeral: bool, view: discord.ui.View | None = None
                      ) -> discord.Message | None:
        """Answer a deferred interaction, swapping the original if the visibility differs;
        ``view`` (buttons) goes under the last chunk. Returns the first message shown."""
        chunks = split_message(text) or ["…"]
        last = len(chunks) - 1
        first: discord.Message | None = None
        if ephemeral == deferred_ephemeral:
            first = await interaction.edit_original_response(
                content=chunks[0], allowed_mentions=NO_MENTIONS,
                view=view if last == 0 else None)
            chunks = chunks[1:]
        else:
            await interaction.delete_original_response()
        for index, chunk in enumerate(chunks):
            extra: dict[str, Any] = {"view": view} if view and index == len(chunks) - 1 else {}
            sent = await interaction.followup.send(chunk, ephemeral=ephemeral,
                                                   allowed_mentions=NO_MENTIONS, **extra)
            first = first or sent
        return first

    async def chat_command(self, interaction: discord.Interaction,
                           values: dict[str, Any]) -> None:
        """``/chat prompt [model] [image]``: in a text channel the answer opens a thread."""
        await interaction.response.defer(thinking=True)
        place = self._interaction_place(interaction)
        actor = self.actor_of(interaction.user, str(interaction.locale))
        prompt = str(values.get("prompt") or "")
        image = values.get("image")
        files = [image] if isinstance(image, discord.Attachment) else []
        sink = InteractionSink(interaction)
        chat, in_thread = place.chat, False
        target: Sink = sink

        async def report(text: str) -> None:
            if not (sink.used_original or in_thread):
                sink.used_original = True  # the "thinking" message goes; the error is private
                await interaction.delete_original_response()
            for chunk in split_message(text):
                await interaction.followup.send(chunk, ephemeral=True,
                                                allowed_mentions=NO_MENTIONS)

        if place.can_thread:
            original = await interaction.edit_original_response(
                content=f"**{actor.name}:** {prompt}"[:2000], allowed_mentions=NO_MENTIONS)
            sink.used_original = True
            try:
                thread = await original.create_thread(name=thread_name(prompt))
            except discord.HTTPException as exc:
                log.warning("could not open a thread, answering inline: %s", exc)
            else:
                self._remember(self.opened_threads, thread.id, place.channel_id,
                               self.opened_threads_max)
                chat = ChatRef(PLATFORM, place.chat.chat_id, str(thread.id))
                target, in_thread = ChannelSink(thread, thread.id), True
        model = values.get("model")
        result = await self.core.inbound.ask(chat, actor, prompt,
                                             attachments.attachment_refs(files),
                                             model_override=str(model) if model else None)
        if isinstance(result, Refusal):
            await report(result.text)
        else:
            await self.present(result, target, interaction.user.id, report)
        if not sink.used_original:  # merged into another turn, or stopped before any text
            await interaction.delete_original_response()


def thread_name(prompt: str) -> str:
    """A thread title from the prompt's first line (≤ 100 characters)."""
    line = next((part.strip() for part in prompt.splitlines() if part.strip()), "") or "chat"
    return line if len(line) <= THREAD_NAME_LIMIT else line[: THREAD_NAME_LIMIT - 1] + "…"
