"""Parts on screen (``Shown``) and where they are shown across restarts (``ShownReports``).

The presenter keeps a ``Shown`` per part ``ref``: its message handles. ``ShownReports``
tells the ticket (``TurnTicket.part_shown``) which platform messages show a ref whenever
they change, and rebuilds the handles of the messages a resumed ticket names
(``TurnTicket.showing``, e.g. a progress message shown before a restart) through the
``Surface`` (``handle_of`` / ``message_id``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.common.surface import Surface
from core.conversation.tickets import TurnTicket
from core.parts import Progress, ProgressPart, ReplyPart, ShownAt

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Shown:
    """A part on screen: its message handles and whether they carry media."""

    part: ReplyPart
    handles: list[Any] = field(default_factory=list)
    media: bool = False
    replied: bool = False
    """Its first message replies to the request (a replacement sent anew keeps that)."""
    restored: bool = False
    """Sent before a restart (``TurnTicket.showing``): any failed edit sends anew."""


class ShownReports:
    """Reports where parts are shown, for one presenter writing through ``surface``."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface
        self._reported: dict[str, ShownAt] = {}
        self.on_shown: Callable[[str, ShownAt | None], None] | None = None
        """Called with ``(ref, where)`` when the messages showing part ``ref`` change."""

    def follow(self, ticket: TurnTicket) -> dict[str, Shown]:
        """Report to ``ticket`` from now on; returns the parts it already shows
        (``ticket.showing``) as ``Shown`` entries: restored, replying to the request,
        counted as progress parts (their content is unknown)."""
        restored: dict[str, Shown] = {}
        for ref, where in ticket.showing.items():
            try:
                handles = [self.surface.handle_of(i, where.media)
                           for i in where.message_ids]
            except Exception:  # unusable here: the part is shown anew
                log.exception("cannot continue the message showing %r", ref)
                continue
            restored[ref] = Shown(ProgressPart(Progress(""), ref=ref), handles,
                                  media=where.media, replied=True, restored=True)
            self._reported[ref] = where
        self.on_shown = ticket.part_shown
        return restored

    def report(self, ref: str, shown: Shown | None) -> None:
        """Tell ``on_shown`` where ``ref`` is shown now (only when it changed; a
        listener's error is logged, never breaks the presentation)."""
        where = None if shown is None else ShownAt(
            tuple(self.surface.message_id(h) for h in shown.handles), shown.media)
        if self._reported.get(ref) == where:
            return
        if where is None:
            self._reported.pop(ref, None)
        else:
            self._reported[ref] = where
        if self.on_shown is not None:
            try:
                self.on_shown(ref, where)
            except Exception:
                log.exception("reporting where a part is shown failed")
