"""The inbound policy's cases, run unchanged through the Telegram and the Discord stacks.

Each platform's ``test_inbound_policy.py`` sends the same input and must record the
same decision from ``ChatCore.receive`` and show the same text; each platform's
``test_inbound_attachments.py`` watches where documents are decoded
(``decoding_threads``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from core.app import ChatCore
from core.commands.replies import CommandReply
from core.conversation.inputs import DocumentInput
from core.conversation.tickets import TurnTicket
from core.inbound import Ignored, Inbound, InboundResult, Refusal


def decoding_threads(core: ChatCore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the threads ``core.media.read_text_document`` runs on from now on
    (one per document; it is observed, not changed)."""
    media = core.media
    read = media.read_text_document
    threads: list[int] = []

    def spy(filename: str, data: bytes, mime: str | None = None) -> DocumentInput:
        threads.append(threading.get_ident())
        return read(filename, data, mime)

    monkeypatch.setattr(media, "read_text_document", spy)
    return threads


UNKNOWN = "Unknown command /frobnicate. See /help."


@dataclass(frozen=True)
class Case:
    """``text`` may hold ``{bot}`` (the bot's username); ``decision`` as ``decision()``."""

    id: str
    private: bool
    text: str
    decision: str
    shown: str | None = None
    """How the bot's answer starts (None: it shows nothing; a turn shows "echo: ...")."""
    mention: bool = False
    reply_to_bot: bool = False
    mode: str = ""


CASES = [
    Case("unknown-private", True, "/frobnicate now", "refusal:error.unknown_command",
         UNKNOWN),
    Case("unknown-group-addressed", False, "/frobnicate@{bot} now",
         "refusal:error.unknown_command", UNKNOWN),
    Case("unknown-group-mention", False, "/frobnicate now", "refusal:error.unknown_command",
         UNKNOWN, mention=True),
    Case("unknown-group-reply-to-bot", False, "/frobnicate now",
         "refusal:error.unknown_command", UNKNOWN, reply_to_bot=True),
    Case("unknown-group-unaddressed", False, "/frobnicate now", "ignored:unknown_command"),
    Case("unknown-group-unaddressed-mode-all", False, "/frobnicate", "ignored:unknown_command",
         mode="all"),
    Case("other-bots-command", False, "/help@other_bot", "ignored:other_bot", mode="all"),
    Case("known-command-group-unaddressed", False, "/persona", "command", "",
         mode="command"),
    Case("private-plain", True, "hello there", "turn", "echo: hello there"),
    Case("mention", False, "what is 2+2?", "turn", "echo: what is 2+2?", mention=True),
    Case("reply-to-bot", False, "tell me more", "turn", "echo: tell me more",
         reply_to_bot=True),
    Case("plain-group-mode-mention", False, "just chatting", "ignored:not_addressed",
         mode="mention"),
    Case("plain-group-mode-all", False, "no mention needed", "turn",
         "echo: no mention needed", mode="all"),
    Case("plain-group-mode-command", False, "anyone?", "ignored:not_addressed",
         mode="command"),
    Case("mention-mode-command", False, "hello bot", "ignored:not_addressed", mention=True,
         mode="command"),
    Case("ask-without-question", True, "/ask", "refusal:cmd.ask_usage", "Usage: /"),
]
PARAMS = [pytest.param(case, id=case.id) for case in CASES]


def decision(result: InboundResult) -> str:
    """A comparable name for a result: ``turn``, ``command``, ``ignored:<reason>``,
    ``refusal:<keys>``."""
    if isinstance(result, Ignored):
        return f"ignored:{result.reason}"
    if isinstance(result, Refusal):
        return "refusal:" + ",".join(result.keys)
    if isinstance(result, CommandReply):
        return "command"
    assert isinstance(result, TurnTicket)
    return "turn"


def record_decisions(core: ChatCore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Observe every ``core.receive`` (decisions in order); changes nothing."""
    decisions: list[str] = []
    receive = core.receive

    async def spy(inbound: Inbound) -> InboundResult:
        result = await receive(inbound)
        decisions.append(decision(result))
        return result

    monkeypatch.setattr(core, "receive", spy)
    return decisions
