"""Prompt requests on Discord (``ActionOutcome.prompt``, e.g. Midjourney Custom Zoom).

A button press is deferred at once (Discord: an answer within 3 s), and a Modal can only
be the *first* answer to an interaction (Discord API: "MODAL callback type must be the
initial response"), so the request arrives as an ephemeral follow-up with one button
(the label); pressing it opens a ``discord.ui.Modal`` with one paragraph ``TextInput``
(label ≤ 45 characters, Discord API; prefilled with the default text). The button is a
persistent ``PromptButton`` (``cb:p:<action id>``): a press runs the prompt's action
again for a fresh request, so it also works after a restart. The submitted text goes to
``ChatCore.submit_prompt`` and its reply (with the job's ticket) is presented in
the channel. A Modal takes no file, so a Vary Region mask arrives as a *reply*: the user
replies to the square picker with the mask image attached and the prompt as the text
(``answer_of`` finds the picker's answerable button, ``ActionService.register_answer``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from adapters.discord.surface import ACTION_TEMPLATE
from core.actions import PromptRequest
from core.app import ChatCore
from core.conversation.keys import ChatRef

LABEL_MAX = 45
"""Discord API: a modal title and a text input label are at most 45 characters."""

TEXT_MAX = 4000
"""Discord API: a text input's value is at most 4000 characters."""

BUTTON_LABEL_MAX = 80
"""Discord API: a button label is at most 80 characters."""

Submit = Callable[[discord.Interaction, str], Awaitable[None]]
"""Called with the modal's submit interaction and the text (the interaction unanswered)."""


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


class PromptModal(discord.ui.Modal):
    """One paragraph text input; on submit calls ``submit`` with the text."""

    def __init__(self, prompt: PromptRequest, submit: Submit) -> None:
        super().__init__(title=clip(prompt.label, LABEL_MAX), timeout=None)
        limit = max(1, min(prompt.max_length, TEXT_MAX))
        self.text: discord.ui.TextInput[PromptModal] = discord.ui.TextInput(
            label=clip(prompt.label, LABEL_MAX), style=discord.TextStyle.paragraph,
            default=prompt.default_text[:limit] or None,
            placeholder=clip(prompt.placeholder, 100) or None, max_length=limit)
        self.add_item(self.text)
        self._submit = submit

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self._submit(interaction, self.text.value)


PROMPT_TEMPLATE = r"cb:p:(?P<id>[A-Za-z0-9_-]+)"
"""``custom_id`` of the follow-up's button that opens the prompt's Modal."""

Opener = Callable[[discord.Interaction, str], Awaitable[None]]
"""Called with the press and the prompt's action id; answers with the Modal."""


class PromptButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                   template=PROMPT_TEMPLATE):
    """The follow-up's ✏️ button (persistent: works after a restart). A press calls
    ``client.bot.handlers.buttons.open_prompt(interaction, action_id)``."""

    def __init__(self, action_id: str, label: str = "…") -> None:
        super().__init__(discord.ui.Button(label=clip(label, BUTTON_LABEL_MAX) or "…",
                                           emoji="✏️", style=discord.ButtonStyle.primary,
                                           custom_id=f"cb:p:{action_id}"))
        self.action_id = action_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> PromptButton:
        return cls(match["id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        handlers = getattr(getattr(interaction.client, "bot", None), "handlers", None)
        opener: Opener | None = getattr(getattr(handlers, "buttons", None), "open_prompt",
                                        None)
        if opener is not None:
            await opener(interaction, self.action_id)


def prompt_view(prompt: PromptRequest) -> discord.ui.View:
    """The follow-up's view: one ``PromptButton`` labelled with the prompt's label."""
    view = discord.ui.View(timeout=None)
    view.add_item(PromptButton(prompt.action_id, prompt.label))
    view.stop()  # presses go to the registered dynamic item
    return view


async def answer_of(core: ChatCore, chat: ChatRef, message: discord.Message
                    ) -> dict[str, Any] | None:
    """What ``message`` answers when it replies to a bot message: a bound prompt, or an
    answerable button on the replied message (``{"action_id", "accepts_mask"}``); None
    for an ordinary message."""
    ref = message.reference
    if ref is None or ref.message_id is None:
        return None
    ids: list[str] = []
    if isinstance(ref.resolved, discord.Message):
        for row in ref.resolved.components:
            for child in getattr(row, "children", ()):
                found = re.fullmatch(ACTION_TEMPLATE, str(getattr(child, "custom_id", "")))
                if found:
                    ids.append(found["id"])
    return await core.actions.bound_to(chat, str(ref.message_id), ids)
