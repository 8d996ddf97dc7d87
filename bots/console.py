"""A terminal chat on the core: read lines from stdin, print streamed answers."""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import TextIO

from core.app import ChatCore
from core.conversation.inputs import UserMessage
from core.conversation.keys import Actor, ChatRef
from core.conversation.tickets import TurnTicket
from core.events import TextDelta, TurnCancelled, TurnFailed, TurnFinal


async def run_console(core: ChatCore, stdin: TextIO = sys.stdin,
                      stdout: TextIO = sys.stdout) -> None:
    """Chat until end of input; ``/commands`` work as in the bots."""
    user = _user_name()
    chat = ChatRef("console", user, is_private=True)
    actor = Actor("console", user, name=user, language=core.settings.default_language)
    interactive = stdin.isatty()
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        text = line.rstrip("\n")
        if not text.strip():
            continue
        reply = await core.run_command_text(text, chat, actor)
        if reply is not None:
            stdout.write(reply.text + "\n")
            stdout.flush()
            continue
        parsed = core.parse_command(text, "console") if text.startswith("/") else None
        message = UserMessage(text=str(parsed.args.get("prompt", "")) if parsed else text)
        await _stream_answer(core, await core.submit(chat, actor, message), stdout)


async def _stream_answer(core: ChatCore, ticket: TurnTicket, stdout: TextIO) -> None:
    async for event in ticket:
        if isinstance(event, TextDelta):
            stdout.write(event.text)
            stdout.flush()
        elif isinstance(event, TurnFinal):
            stdout.write("\n")
        elif isinstance(event, TurnFailed):
            prefix = "\n" if event.partial_text else ""
            stdout.write(f"{prefix}[{core.failure_text(event, ticket.language)}]\n")
        elif isinstance(event, TurnCancelled):
            stdout.write(f"\n[{core.t('turn.cancelled', ticket.language)}]\n")
    stdout.flush()


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
