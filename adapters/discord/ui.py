"""Components shown on streaming answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

CANCEL_PREFIX = "chatbridge:cancel:"
"""``custom_id`` prefix of Cancel buttons; the rest is the turn id."""

CancelCallback = Callable[[discord.Interaction, str], Awaitable[None]]


def cancel_custom_id(turn_id: str) -> str:
    """The Cancel button's ``custom_id`` for ``turn_id`` (Discord allows 100 chars)."""
    return (CANCEL_PREFIX + turn_id)[:100]


def turn_of(custom_id: str) -> str | None:
    """The turn id encoded in a Cancel button's ``custom_id``, else ``None``."""
    if custom_id.startswith(CANCEL_PREFIX):
        return custom_id[len(CANCEL_PREFIX) :]
    return None


class CancelView(discord.ui.View):
    """A single red "Stop" button bound to one turn.

    The view never times out and has a fixed ``custom_id``, so it can be registered with
    ``Client.add_view`` (persistent) before the message exists; ``stop()`` unregisters it.
    """

    def __init__(self, turn_id: str, label: str, on_cancel: CancelCallback) -> None:
        super().__init__(timeout=None)
        self.turn_id = turn_id
        self._on_cancel = on_cancel
        button: discord.ui.Button[CancelView] = discord.ui.Button(
            label=label,
            style=discord.ButtonStyle.danger,
            custom_id=cancel_custom_id(turn_id),
        )
        button.callback = self._clicked  # type: ignore[method-assign]
        self.add_item(button)

    async def _clicked(self, interaction: discord.Interaction) -> None:
        await self._on_cancel(interaction, self.turn_id)
