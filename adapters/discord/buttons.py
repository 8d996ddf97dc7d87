"""Action buttons on Discord: presses, their outcomes, and command replies with parts.

A press (``cb:a:<id>``, the persistent ``ActionButton``) is deferred at once (Discord
wants an answer within 3 s), then runs ``ChatCore.run_action``: ``notice`` → an
ephemeral follow-up; ``reply`` with ``replace`` → the message that carried the button
is edited (text and buttons), else posted; ``ticket`` → presented like a turn, replying
to that message. ``prompt`` → an ephemeral follow-up whose button opens a Modal (``prompts``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from adapters.common.presenter import PartPresenter
from adapters.discord.attachments import attachment_refs
from adapters.discord.host import HandlersHost as Handlers
from adapters.discord.prompts import PromptModal, prompt_view
from adapters.discord.render import split_message
from adapters.discord.sinks import NO_MENTIONS, WRITE_ERRORS, ChannelSink, Sink
from adapters.discord.surface import DiscordPacer, DiscordSurface, actions_view
from core.actions import ActionOutcome, PromptRequest
from core.commands.replies import CommandReply
from core.conversation.keys import Actor, ChatRef
from core.conversation.tickets import TurnTicket
from core.errors import UserInputError
from core.image_jobs import MentionedTicket
from core.outbox import Delivery

log = logging.getLogger(__name__)


class ActionButtons:
    """Runs action buttons and presents replies for ``Handlers``."""

    def __init__(self, handlers: Handlers) -> None:
        self.handlers = handlers
        self.core = handlers.core

    def surface(self, sink: Sink) -> DiscordSurface:
        """A surface over ``sink``; the bot's messages are remembered (replies to them
        continue the conversation)."""
        return DiscordSurface(sink, on_message=self.handlers.remember_message)

    def parts(self, sink: Sink, lang: str) -> PartPresenter:
        """A part presenter over ``sink`` paced by the bot's channel throttle."""
        return PartPresenter(self.surface(sink), DiscordPacer(self.handlers.bot.throttle,
                                                              sink.channel_id),
                             self.core.t, lang)

    async def on_press(self, interaction: discord.Interaction, action_id: str) -> None:
        """A press of an action button."""
        await interaction.response.defer()  # within 3 s; the outcome follows
        place = self.handlers.place_of(interaction.channel, interaction.channel_id or 0,
                                       interaction.guild_id)
        actor = self.handlers.actor_of(interaction.user, str(interaction.locale))
        outcome = await self.core.run_action(action_id, place.chat, actor)
        await self.apply(interaction, place.chat, actor, outcome)

    async def apply(self, interaction: discord.Interaction, chat: ChatRef, actor: Actor,
                    outcome: ActionOutcome) -> None:
        """Show ``outcome`` of a press (the interaction was deferred)."""
        if outcome.notice:
            await interaction.followup.send(outcome.notice, ephemeral=True,
                                            allowed_mentions=NO_MENTIONS)
        channel = interaction.channel
        message = interaction.message
        sink = (ChannelSink(channel, interaction.channel_id or 0, reply_to=message)
                if isinstance(channel, discord.abc.Messageable) else None)
        lang = await self.core.language_for(chat, actor)
        reply = outcome.reply
        if reply is not None:
            if outcome.replace:
                text = (split_message(reply.text) or ["…"])[0]
                await interaction.edit_original_response(
                    content=text, view=actions_view(reply.actions),
                    allowed_mentions=NO_MENTIONS)
                reply = CommandReply("", parts=reply.parts, ticket=reply.ticket)
            if sink is not None:
                await self.present_reply(sink, reply, lang, int(actor.user_id),
                                         text=bool(reply.text))
        if outcome.ticket is not None and sink is not None:
            await self.present_ticket(sink, outcome.ticket, int(actor.user_id))
        if outcome.prompt is not None:
            await self.ask_prompt(interaction, outcome.prompt)

    async def ask_prompt(self, interaction: discord.Interaction, prompt: PromptRequest
                         ) -> None:
        """An ephemeral follow-up whose button opens the prompt's Modal (see
        ``adapters.discord.prompts``)."""
        await interaction.followup.send(prompt.label[:2000], ephemeral=True,
                                        view=prompt_view(prompt),
                                        allowed_mentions=NO_MENTIONS)

    async def open_prompt(self, interaction: discord.Interaction, action_id: str) -> None:
        """A press of a follow-up's ✏️ button: run the prompt's action for a fresh
        request and answer with its Modal (the first answer, within 3 s); the submitted
        text runs ``core.submit_prompt`` and the job is presented in the channel."""
        place = self.handlers.place_of(interaction.channel, interaction.channel_id or 0,
                                       interaction.guild_id)
        chat = place.chat
        actor = self.handlers.actor_of(interaction.user, str(interaction.locale))
        outcome = await self.core.run_action(action_id, chat, actor)
        if outcome.prompt is None:
            await interaction.response.send_message(outcome.notice or "…", ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
            return
        channel = interaction.channel
        sink = (ChannelSink(channel, interaction.channel_id or 0)
                if isinstance(channel, discord.abc.Messageable) else None)
        request = outcome.prompt

        async def submit(modal: discord.Interaction, text: str) -> None:
            await modal.response.defer(ephemeral=True, thinking=True)
            reply = await self.core.submit_prompt(request.action_id, text, chat, actor)
            lang = await self.core.language_for(chat, actor)
            if reply.is_error or sink is None:
                await modal.followup.send(reply.text or "…", ephemeral=True,
                                          allowed_mentions=NO_MENTIONS)
                return
            await modal.delete_original_response()
            await self.present_reply(sink, reply, lang, int(actor.user_id))

        await interaction.response.send_modal(PromptModal(request, submit))

    async def answer(self, message: discord.Message, chat: ChatRef, actor: Actor,
                     answer: dict[str, Any]) -> None:
        """``message`` replies to a prompt (``prompts.answer_of``): submit its text (and
        its first image as the mask when accepted); show the job or the error."""
        sink = ChannelSink(message.channel, message.channel.id, reply_to=message)
        lang = await self.core.language_for(chat, actor)
        mask = None
        if answer.get("accepts_mask"):
            images = [ref for ref in attachment_refs(message.attachments)
                      if ref.kind == "image"]
            try:
                mask = await images[0].fetch() if images else None
            except UserInputError as exc:  # the attachment could not be downloaded
                await self.present_reply(sink, CommandReply(self.core.error_text(exc, lang)),
                                         lang, int(actor.user_id))
                return
        me = self.handlers.bot.client.user
        text = re.sub(rf"<@!?{me.id}>", "", message.content).strip() if me else message.content
        reply = await self.core.submit_prompt(str(answer["action_id"]), text, chat, actor,
                                              mask)
        await self.present_reply(sink, reply, lang, int(actor.user_id))

    async def present_reply(self, sink: Sink, reply: CommandReply, lang: str, user_id: int,
                            *, text: bool = True) -> None:
        """Post ``reply``: text + buttons, its parts, then its ticket like a turn."""
        surface = self.surface(sink)
        if text:
            await surface.send_text(reply.text, reply.actions)
        parts = self.parts(sink, lang)
        for part in reply.parts:
            try:
                await parts.show(part)
            except WRITE_ERRORS as exc:
                log.warning("could not show a reply part: %r", exc)
        if reply.ticket is not None:
            await self.present_ticket(sink, reply.ticket, user_id)

    async def deliver(self, delivery: Delivery) -> None:
        """Present work the core resumed on its own (``core.outbox``) in its channel."""
        client = self.handlers.bot.client
        channel_id = int(delivery.chat.thread_id or delivery.chat.chat_id)
        channel = client.get_channel(channel_id) or await client.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("cannot deliver into channel %s", channel_id)
            return
        reply_to = (channel.get_partial_message(int(delivery.reply_to))
                    if delivery.reply_to and hasattr(channel, "get_partial_message") else None)
        sink = ChannelSink(channel, channel_id, reply_to=reply_to)  # sent even if it is gone
        user_id = int(delivery.mention_user_id) if delivery.mention_user_id else 0
        await self.present_ticket(sink, delivery.ticket, user_id)

    async def present_ticket(self, sink: Sink, ticket: TurnTicket, user_id: int) -> None:
        """Present ``ticket`` (a turn or a job) until its terminal event; results that
        mention the requester show ``<@user_id>`` (rendered as a mention; the sinks'
        ``NO_MENTIONS`` keep it from pinging)."""
        if user_id:
            ticket = MentionedTicket(ticket, f"<@{user_id}>")
        async def report(text: str) -> None:
            for chunk in split_message(text):
                self.handlers.remember_message((await sink.send(chunk, None)).id)

        await self.handlers.present(ticket, sink, user_id, report)
