"""The "Continue" button (action kind ``turn.continue``) offered under a cut answer.

Adapters show it under the ``turn.length_note`` note (``TurnFinal.truncated``); pressing
it replaces that note by the note alone. Pressing it (once: the action is deleted on the
first press) starts a continuation
turn: ``ChatCore.continue_turn(chat, actor)`` when the core has one, otherwise an
ordinary turn whose user message asks the model to continue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.actions import ActionContext, ActionOutcome, ActionService
from core.commands.replies import CommandReply
from core.conversation.inputs import UserMessage
from core.conversation.keys import ChatRef
from core.i18n import t
from core.parts import Action, ActionRows

if TYPE_CHECKING:
    from core.conversation.tickets import TurnTicket

CONTINUE_KIND = "turn.continue"
CONTINUE_TTL = 24 * 3600.0
"""Seconds the button stays usable (assumed; afterwards it says it has expired)."""


async def continue_actions(actions: ActionService, chat: ChatRef, owner_id: str,
                           lang: str) -> ActionRows:
    """One row with the "Continue" button for ``TurnFinal.actions``."""
    action_id = await actions.create(CONTINUE_KIND, {}, chat=chat, owner_id=owner_id,
                                     who="requester", ttl=CONTINUE_TTL)
    return ((Action(action_id, t("action.continue", lang), icon="▶️",
                    style="primary", who="requester"),),)


async def _on_continue(ctx: ActionContext) -> ActionOutcome:
    if not await ctx.core.actions.forget(ctx.action_id):  # pressed twice at once
        return ActionOutcome(notice=t("action.unknown", ctx.lang), alert=True)
    continue_turn = getattr(ctx.core, "continue_turn", None)
    ticket: TurnTicket
    if continue_turn is not None:
        ticket = await continue_turn(ctx.chat, ctx.actor)
    else:
        ticket = await ctx.core.submit(ctx.chat, ctx.actor,
                                       UserMessage(text=t("action.continue_prompt", ctx.lang)))
    # the note that carried the button stays, without it: one press, one continuation
    return ActionOutcome(reply=CommandReply(t("turn.length_note", ctx.lang)), replace=True,
                         ticket=ticket)


def register_continue(actions: ActionService) -> None:
    """Register the ``turn.continue`` action kind."""
    actions.register(CONTINUE_KIND, _on_continue)
