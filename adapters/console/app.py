"""``ConsoleAdapter``: stdin lines in, streamed answers out — the smallest platform.

Each input line is a ``/command``, the number of a choice shown earlier (``[1] gpt-4``:
typing ``1`` presses that button via ``ChatCore.run_action``) or a message for a turn.
Media are saved under ``DATA_DIR/console/`` and shown as one line.  Works with piped
input: the adapter returns at end of input.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import sys
import threading
from typing import ClassVar, TextIO

from pydantic_settings import SettingsConfigDict

from adapters.console.render import ConsoleRenderer
from adapters.contract import AdapterSettings, Capabilities
from core.app import ChatCore
from core.config import load_settings_of
from core.conversation.inputs import UserMessage
from core.conversation.keys import Actor, ChatRef
from core.errors import ChatbridgeError

PLATFORM = "console"


class ConsoleSettings(AdapterSettings):
    """No settings yet (``CONSOLE_`` prefix reserved); the user is the login name."""

    model_config = SettingsConfigDict(env_prefix="CONSOLE_")

    def enabled(self) -> bool:
        """Never started by ``python -m bots``; only by ``python -m bots console``."""
        return False


class ConsoleAdapter:
    """A one-user terminal chat; ``serve`` returns at end of input or when stopped."""

    name: ClassVar[str] = PLATFORM
    capabilities: ClassVar[Capabilities] = Capabilities(
        drafts=False, edits=False, buttons=True, albums=False, modals=False, threads=False,
        max_message_length=0, length_unit="chars", max_upload_bytes=0)

    def __init__(self, core: ChatCore, settings: ConsoleSettings | None = None, *,
                 stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.settings = settings or load_settings_of(ConsoleSettings)
        user = _login_name()
        self.core = core
        self.stdin = stdin or sys.stdin
        self.out = stdout or sys.stdout
        self.chat = ChatRef(PLATFORM, user, is_private=True)
        self.actor = Actor(PLATFORM, user, name=user,
                           language=core.settings.default_language)
        self.render = ConsoleRenderer(core, self.out, core.settings.data_dir / "console")
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._reader: threading.Thread | None = None

    async def start(self) -> None:
        """Start reading stdin (a daemon thread: a blocked read never delays exit)."""
        loop = asyncio.get_running_loop()

        def read() -> None:
            for line in iter(self.stdin.readline, ""):
                loop.call_soon_threadsafe(self._lines.put_nowait, line)
            loop.call_soon_threadsafe(self._lines.put_nowait, None)

        self._reader = threading.Thread(target=read, name="console-stdin", daemon=True)
        self._reader.start()

    async def stop(self) -> None:
        """Nothing to close: the reader thread is a daemon."""
        self.out.flush()

    async def serve(self, stop: asyncio.Event) -> None:
        """Chat until end of input or ``stop``. Lines are handled one after the other,
        except ``/cancel``: typed while an answer streams, it stops that answer at once
        (the answer then ends with the ``[Stopped.]`` line)."""
        await self.start()
        work: asyncio.Queue[str | None] = asyncio.Queue()
        worker = asyncio.ensure_future(self._work(work))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while True:
                getter = asyncio.ensure_future(self._lines.get())
                await asyncio.wait([getter, stopper, worker],
                                   return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():  # stopped (or the worker raised)
                    getter.cancel()
                    break
                line = getter.result()
                if line is None:  # end of input: finish what was typed
                    work.put_nowait(None)
                    await asyncio.wait([worker, stopper], return_when=asyncio.FIRST_COMPLETED)
                    break
                if self._is_cancel(line):
                    await self._handle_reporting(line)
                else:
                    work.put_nowait(line)
        finally:
            stopper.cancel()
            if not worker.done():
                worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker  # re-raises what broke it
            await self.stop()

    async def _work(self, work: asyncio.Queue[str | None]) -> None:
        """Handle queued lines in order until ``None``."""
        interactive = self.stdin.isatty()
        while True:
            if interactive and work.empty():
                self.out.write("> ")  # not a line: the user's Enter ends it
                self.out.flush()
            line = await work.get()
            if line is None:
                return
            await self._handle_reporting(line)

    def _is_cancel(self, line: str) -> bool:
        try:
            parsed = self.core.parse_command(line.strip(), PLATFORM)
        except ChatbridgeError:
            return False
        return parsed is not None and parsed.spec is not None and parsed.spec.name == "cancel"

    async def _handle_reporting(self, line: str) -> None:
        try:
            await self.handle(line.rstrip("\n"))
        except ChatbridgeError as exc:  # e.g. malformed command arguments
            lang = await self.core.language_for(self.chat, self.actor)
            self.render.line(f"[{self.core.error_text(exc, lang)}]")

    async def handle(self, text: str) -> None:
        """One input line: a choice number, a ``/command`` or a message."""
        if not text.strip():
            return
        action_id = self.render.choice(text)
        lang = await self.core.language_for(self.chat, self.actor)
        if action_id is not None:
            outcome = await self.core.run_action(action_id, self.chat, self.actor)
            await self.render.outcome(outcome, lang)
            return
        reply = await self.core.run_command_text(text, self.chat, self.actor)
        if reply is not None:
            await self.render.reply(reply, lang)
            return
        parsed = self.core.parse_command(text, PLATFORM) if text.startswith("/") else None
        message = UserMessage(text=str(parsed.args.get("prompt", "")) if parsed else text)
        await self.render.ticket(await self.core.submit(self.chat, self.actor, message))


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
