"""Console output: replies, turn events, numbered choices for buttons, media as lines."""

from __future__ import annotations

import mimetypes
import secrets
from pathlib import Path
from typing import TextIO

from core.actions import ActionOutcome
from core.app import ChatCore
from core.commands.replies import CommandReply
from core.conversation.tickets import TurnTicket
from core.events import (
    PartShown,
    PartUpdated,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinal,
)
from core.parts import (
    ActionRows,
    ActionsPart,
    Media,
    MediaPart,
    ProgressPart,
    ReplyPart,
    TextPart,
)


class ConsoleRenderer:
    """Writes to ``out``; remembers the last shown choices (number -> action id)."""

    def __init__(self, core: ChatCore, out: TextIO, media_dir: Path) -> None:
        self.core = core
        self.out = out
        self.media_dir = media_dir
        self.choices: dict[str, str] = {}
        self._open = False  # the last write left its line open (a streaming answer)

    def choice(self, text: str) -> str | None:
        """The action id of a typed choice number (``"1"``), else None."""
        return self.choices.get(text.strip())

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()
        if text:
            self._open = not text.endswith("\n")

    def end_line(self) -> None:
        """End a line left open by streamed text (a no-op at a line's start)."""
        if self._open:
            self._write("\n")

    def line(self, text: str) -> None:
        """``text`` as a line of its own (also when written while an answer streams,
        e.g. the reply to ``/cancel``)."""
        self.end_line()
        self._write(text + "\n")

    def actions(self, rows: ActionRows) -> None:
        """``[1] gpt-4  [2] glm-4``: one line per row; link buttons show their URL."""
        if not rows:
            return
        self.choices = {}
        for row in rows:
            cells = []
            for action in row:
                label = f"{action.icon} {action.label}".strip()
                if action.url:
                    cells.append(f"{label} <{action.url}>")
                    continue
                number = str(len(self.choices) + 1)
                self.choices[number] = action.action_id
                cells.append(f"[{number}] {label}")
            self.line("  ".join(cells))

    def media(self, item: Media) -> str:
        """Save ``item`` (bytes) under the media folder; the line that describes it."""
        if item.data is None:
            return f"[{item.kind}: {item.url}]"
        self.media_dir.mkdir(parents=True, exist_ok=True)
        suffix = Path(item.filename).suffix or mimetypes.guess_extension(item.mime) or ".bin"
        path = self.media_dir / f"{secrets.token_hex(4)}{suffix}"
        path.write_bytes(item.data)
        size = f"{max(1, round(item.size / 1024))} KB"
        caption = f" {item.caption}" if item.caption else ""
        return f"[{item.kind}: {size} {item.mime} saved to {path}]{caption}"

    def part(self, part: ReplyPart, lang: str) -> None:
        """One reply part as lines (text, media lines, progress, choices)."""
        if isinstance(part, MediaPart):
            for item in part.media:
                self.line(self.media(item))
        elif isinstance(part, ProgressPart):
            progress = part.progress
            percent = f" {progress.percent}%" if progress.percent is not None else ""
            self.line(f"[{self.core.t(progress.key, lang, **progress.params)}{percent}]")
        elif isinstance(part, ActionsPart):
            self.line(part.text)
        else:
            self.line(part.text)
        if not isinstance(part, TextPart):
            self.actions(part.actions)

    async def reply(self, reply: CommandReply, lang: str) -> None:
        """A command reply: text, choices, parts, then the job it started (if any)."""
        if reply.text:
            self.line(reply.text)
        self.actions(reply.actions)
        for part in reply.parts:
            self.part(part, lang)
        if reply.ticket is not None:
            await self.ticket(reply.ticket)

    async def outcome(self, outcome: ActionOutcome, lang: str) -> None:
        """What a pressed choice did: its notice, reply and turn."""
        if outcome.notice:
            self.line(f"[{outcome.notice}]")
        if outcome.reply is not None:
            await self.reply(outcome.reply, lang)
        if outcome.ticket is not None:
            await self.ticket(outcome.ticket)

    async def ticket(self, ticket: TurnTicket) -> None:
        """Stream a turn's (or job's) events until its terminal event. A failed turn
        ends with ``ChatCore.failure_notice`` (``⚠️ <reason>``, the text the Telegram
        and Discord bots show), a stopped one with ``[Stopped.]``."""
        lang = ticket.language
        streamed = False
        async for event in ticket:
            if isinstance(event, TextDelta):
                self._write(event.text)
                streamed = streamed or bool(event.text)
            elif isinstance(event, ToolCallStarted | ToolCallFinished):
                progress = event.progress
                if progress.key:
                    self.line(f"[{self.core.t(progress.key, lang, **progress.params)}]")
            elif isinstance(event, PartShown):
                self.part(event.part, lang)
            elif isinstance(event, PartUpdated):
                self.part(event.update.part, lang)
            elif isinstance(event, TurnFinal):
                if not streamed and event.text:  # nothing streamed: show the final text
                    self.line(event.text)
                self.end_line()
                self.actions(event.actions)
            elif isinstance(event, TurnFailed):
                self.line(self.core.failure_notice(event, lang))
            elif isinstance(event, TurnCancelled):
                self.line(f"[{self.core.t('turn.cancelled', lang)}]")
