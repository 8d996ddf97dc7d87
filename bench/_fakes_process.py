"""Run a benchmark's fakes (gateway, platform server) in their own processes.

A *service* is an object with ``async start() -> info``, ``async stop()`` and any other
``async`` methods taking keyword arguments and returning picklable data.  The benchmark
(the bot process) drives it through a host:

* :class:`OutOfProcess` spawns a child process (``spawn`` start method) that builds the
  service from ``factory(*args)``, runs it on its own event loop and answers method calls
  over a ``multiprocessing.Pipe``; the bot's event loop only ever waits on the pipe's file
  descriptor, so the fakes no longer take CPU from the bot under test;
* :class:`InProcess` runs the service on the caller's loop (the old single-process mode).

Timestamps crossing processes are ``time.monotonic()`` (CLOCK_MONOTONIC, system-wide on
Linux; ``asyncio`` loop time is the same clock), so they are comparable between the bot
and the fakes on one machine.

:class:`GatewayService` wraps :class:`tests.fakes.gateway.FakeGateway` and records when the
first streamed chunk of each prompt's answer went out.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

_START_ID = 0


class RemoteError(RuntimeError):
    """A service method raised in the child process (the message is its traceback)."""


# ---------------------------------------------------------------------------- child side
def _child_main(factory: Callable[..., Any], args: tuple[Any, ...], conn: Connection) -> None:
    # Ctrl-C reaches the whole process group: the parent decides when the fakes stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(_serve(factory, args, conn))
    finally:
        conn.close()


def _send(conn: Connection, message: tuple[Any, ...]) -> None:
    with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError):
        conn.send(message)


async def _serve(factory: Callable[..., Any], args: tuple[Any, ...], conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    try:
        service = factory(*args)
        info = await service.start()
    except Exception:
        _send(conn, (_START_ID, False, traceback.format_exc()))
        return
    _send(conn, (_START_ID, True, info))
    stopping = asyncio.Event()
    stop_ids: list[int] = []
    tasks: set[asyncio.Task[None]] = set()

    async def handle(request_id: int, method: str, kwargs: dict[str, Any]) -> None:
        try:
            if method == "_cpu":
                result: Any = time.process_time()
            else:
                result = await getattr(service, method)(**kwargs)
        except Exception:
            _send(conn, (request_id, False, traceback.format_exc()))
        else:
            _send(conn, (request_id, True, result))

    def on_readable() -> None:
        try:
            request_id, method, kwargs = conn.recv()
        except (EOFError, OSError):  # the parent went away: shut down
            loop.remove_reader(conn.fileno())
            stopping.set()
            return
        if method == "_stop":
            stop_ids.append(request_id)
            stopping.set()
            return
        task = loop.create_task(handle(request_id, method, kwargs))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    loop.add_reader(conn.fileno(), on_readable)
    try:
        await stopping.wait()
    finally:
        with contextlib.suppress(Exception):
            loop.remove_reader(conn.fileno())
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await service.stop()
        for request_id in stop_ids:
            _send(conn, (request_id, True, None))


# --------------------------------------------------------------------------- parent side
class OutOfProcess:
    """A service running in a spawned child process; call its methods with :meth:`call`."""

    def __init__(self, name: str, factory: Callable[..., Any], *args: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self.name = name
        self._conn, self._child_conn = context.Pipe()
        self.process = context.Process(target=_child_main, name=name, daemon=True,
                                       args=(factory, args, self._child_conn))
        self._ids = itertools.count(_START_ID + 1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reading = False

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.process.pid or 0

    async def start(self, timeout: float = 60.0) -> Any:
        """Spawn the child; returns what the service's ``start()`` returned."""
        loop = asyncio.get_running_loop()
        started = self._pending[_START_ID] = loop.create_future()
        self.process.start()
        self._child_conn.close()  # only the child holds it now: EOF when the child dies
        loop.add_reader(self._conn.fileno(), self._on_readable)
        self._reading = True
        return await asyncio.wait_for(started, timeout)

    async def call(self, method: str, *, reply_timeout: float | None = None,
                   **kwargs: Any) -> Any:
        """Call ``await service.method(**kwargs)`` in the child and return its result."""
        request_id = next(self._ids)
        future = self._pending[request_id] = asyncio.get_running_loop().create_future()
        try:
            self._conn.send((request_id, method, kwargs))
        except OSError as error:
            self._pending.pop(request_id, None)
            raise RemoteError(f"{self.name} (pid {self.pid}) is gone: {error}") from None
        try:
            return await asyncio.wait_for(future, reply_timeout)
        finally:
            self._pending.pop(request_id, None)

    async def cpu_seconds(self) -> float:
        """CPU time (user + system) the child has used so far."""
        return float(await self.call("_cpu", reply_timeout=10))

    async def stop(self) -> None:
        """Ask the child to stop its service; terminate/kill it if it does not exit."""
        if self.process.pid is None:  # never started
            self._conn.close()
            return
        if self.process.is_alive() and self._reading:
            with contextlib.suppress(Exception):
                await self.call("_stop", reply_timeout=10)
        if self._reading:
            asyncio.get_running_loop().remove_reader(self._conn.fileno())
            self._reading = False
        for ending in (None, self.process.terminate, self.process.kill):
            if ending is not None:
                ending()
            for _ in range(50):  # up to 5 s without blocking the loop
                if not self.process.is_alive():
                    break
                await asyncio.sleep(0.1)
            if not self.process.is_alive():
                break
        self.process.join(timeout=1)
        self._conn.close()

    def _on_readable(self) -> None:
        try:
            request_id, ok, value = self._conn.recv()
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(self._conn.fileno())
            self._reading = False
            code = self.process.exitcode
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(RemoteError(
                        f"{self.name} (pid {self.pid}) exited (code {code})"))
            self._pending.clear()
            return
        waiting = self._pending.pop(request_id) if request_id in self._pending else None
        if waiting is None or waiting.done():
            return
        if ok:
            waiting.set_result(value)
        else:
            waiting.set_exception(RemoteError(f"in {self.name} (pid {self.pid}):\n{value}"))


class InProcess:
    """The same interface as :class:`OutOfProcess`, on the caller's own event loop."""

    def __init__(self, name: str, factory: Callable[..., Any], *args: Any) -> None:
        self.name = name
        self.service = factory(*args)
        self.pid = os.getpid()
        self._started = False

    async def start(self, timeout: float = 60.0) -> Any:
        info = await asyncio.wait_for(self.service.start(), timeout)
        self._started = True
        return info

    async def call(self, method: str, *, reply_timeout: float | None = None,
                   **kwargs: Any) -> Any:
        return await asyncio.wait_for(getattr(self.service, method)(**kwargs), reply_timeout)

    async def cpu_seconds(self) -> float:
        return 0.0  # shared with the bot: counted in the bot process's CPU time

    async def stop(self) -> None:
        if self._started:
            self._started = False
            await self.service.stop()


Host = OutOfProcess | InProcess


def host(inprocess: bool, name: str, factory: Callable[..., Any], *args: Any) -> Host:
    """An :class:`InProcess` or an :class:`OutOfProcess` host for ``factory(*args)``."""
    return (InProcess if inprocess else OutOfProcess)(name, factory, *args)


# ------------------------------------------------------------------------- fake gateway
class GatewayService:
    """A :class:`FakeGateway` answering with ``responder(body)``.

    Records ``time.monotonic()`` when each prompt's answer starts streaming (the handler
    writes the first delta right away), keyed by ``prompt_of(body)``.
    """

    def __init__(self, responder: Callable[[dict[str, Any]], Any],
                 prompt_of: Callable[[dict[str, Any]], str]) -> None:
        self.responder = responder
        self.prompt_of = prompt_of
        self.first_token_at: dict[str, float] = {}
        self.gateway: Any = None

    async def start(self) -> dict[str, Any]:
        from tests.fakes.gateway import CHAT_PATH, Call, FakeGateway

        self.gateway = FakeGateway(record=False)
        self.gateway.responder = self.responder
        original = self.gateway._exact[("POST", CHAT_PATH)].handler

        async def timed_chat(call: Call) -> Any:
            body = call.request.json if isinstance(call.request.json, dict) else {}
            self.first_token_at.setdefault(self.prompt_of(body), time.monotonic())
            return await original(call)

        self.gateway.route("POST", CHAT_PATH, timed_chat)
        await self.gateway.start()
        return {"url": self.gateway.url}

    async def first_tokens(self) -> dict[str, float]:
        """Prompt → ``time.monotonic()`` of the first streamed chunk of its answer."""
        return dict(self.first_token_at)

    async def stop(self) -> None:
        if self.gateway is not None:
            await self.gateway.stop()
            self.gateway = None

