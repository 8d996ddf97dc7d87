"""The "continue" follow-up of an answer that hit the output limit (``finish_reason:
"length"``, reported as ``TurnFinal.truncated``).

A continuation is a normal turn whose user message is ``CONTINUE_PROMPT``: the model
gets the history (ending with its capped answer) and the instruction; both are stored
like any turn.  Users ask for it by typing one of ``CONTINUE_WORDS`` alone (any case,
trailing punctuation ignored) or through an adapter's button calling
``ChatCore.continue_turn``.
"""

from __future__ import annotations

from core.conversation.inputs import UserMessage

CONTINUE_WORDS = frozenset({"continue", "go on", "keep going", "继续", "繼續", "接着说",
                            "继续写"})
"""Messages (compared lower-cased, stripped of spaces and final punctuation) that ask
for the rest of the previous answer."""

CONTINUE_PROMPT = ("Continue your previous answer exactly where it stopped. Do not repeat "
                   "what you already wrote and do not add an introduction.")
"""The instruction the model gets (English: understood by every model we route to)."""

_TRAILING = " \t\r\n.!。！…~"


def is_continue_request(message: UserMessage) -> bool:
    """Whether ``message`` is only a "continue" word (no media, no documents)."""
    if message.images or message.documents:
        return False
    return message.text.strip().rstrip(_TRAILING).strip().lower() in CONTINUE_WORDS


def continue_message(model_override: str | None = None) -> UserMessage:
    """The user message of a continuation turn."""
    return UserMessage(text=CONTINUE_PROMPT, model_override=model_override)
