"""``ConsoleAdapter``: stdin lines in, streamed answers out — the smallest platform.

Each input line is a ``/command``, the number of a choice shown earlier (``[1] gpt-4``:
typing ``1`` presses that button via ``ChatCore.run_action``) or a message for a turn.
Media are saved under ``DATA_DIR/console/`` and shown as one line.  Works with piped
input: the adapter returns at end of input.
"""

from __future__ import annotations

import asyncio
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
        """Chat until end of input or ``stop``."""
        await self.start()
        interactive = self.stdin.isatty()
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                if interactive:
                    self.out.write("> ")
                    self.out.flush()
                getter = asyncio.ensure_future(self._lines.get())
                await asyncio.wait([getter, stopper], return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    break
                line = getter.result()
                if line is None:
                    break
                try:
                    await self.handle(line.rstrip("\n"))
                except ChatbridgeError as exc:  # e.g. malformed command arguments
                    lang = await self.core.language_for(self.chat, self.actor)
                    self.out.write(f"[{self.core.error_text(exc, lang)}]\n")
        finally:
            stopper.cancel()
            await self.stop()

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
