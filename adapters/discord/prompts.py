"""Prompt requests on Discord (``ActionOutcome.prompt``, e.g. Midjourney Custom Zoom).

A button press is deferred at once (Discord: an answer within 3 s), and a Modal can only
be the *first* answer to an interaction (Discord API: "MODAL callback type must be the
initial response"), so the request arrives as an ephemeral follow-up with one button
(the label); pressing it opens a ``discord.ui.Modal`` with one paragraph ``TextInput``
(label ≤ 45 characters, Discord API; prefilled with the default text). The submitted text
goes to ``ChatCore.submit_prompt`` and its reply (with the job's ticket) is presented in
the channel. Masks (Vary Region) are not asked for on Discord (a Modal takes no file).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from core.actions import PromptRequest

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


class PromptView(discord.ui.View):
    """The follow-up's button that opens the ``PromptModal`` (this process only)."""

    def __init__(self, prompt: PromptRequest, submit: Submit) -> None:
        super().__init__(timeout=None)
        self._prompt, self._submit = prompt, submit
        button: discord.ui.Button[PromptView] = discord.ui.Button(
            label=clip(prompt.label, BUTTON_LABEL_MAX), emoji="✏️",
            style=discord.ButtonStyle.primary)
        button.callback = self.open  # type: ignore[method-assign]
        self.add_item(button)

    async def open(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(PromptModal(self._prompt, self._submit))
