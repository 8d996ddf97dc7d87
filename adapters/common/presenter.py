"""The shared presenter: turns the core's reply parts into calls on a ``Surface``.

One engine for every adapter. It shows ``PartShown`` parts (media, buttons, progress,
text), replaces them in place for ``PartUpdated`` (a progress message becomes the
result), posts command replies and button outcomes, and degrades explicitly where the
platform lacks something (see ``Limits``):

* an image over ``photo_max_bytes`` is sent as a file; any item over
  ``upload_max_bytes`` is replaced by a notice naming it and the limit;
* an album (several items) carries no buttons when ``album_actions`` is False: the
  buttons go on a small separate message after it;
* images and files go in separate messages when ``mixed_albums`` is False;
* a result replacing a text-only progress message is a delete + send when the platform
  cannot turn a text message into a media one (``media_edit_from_text``);
* a message to edit that is gone (deleted by a user: ``Surface.missing``) is replaced by
  a new message, never an error.

Where a part ``ref`` is shown is reported to the ticket (``follow``:
``TurnTicket.part_shown``) whenever its messages change, and a ticket resumed after a
restart hands back the messages that showed its parts (``TurnTicket.showing``): the
presenter continues them (edits them, or deletes them when the result is sent anew).

Progress updates are droppable previews (paced by the ``Pacer``; the newest skipped one
is shown once a preview slot is free, and dropped when a result replaces the part); a
replacement by a result always goes, at once. Writes to one part are serialized.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import Any

from adapters.common.shown import Shown, ShownReports
from adapters.common.surface import CannotEdit, Pacer, Surface
from core.conversation.tickets import TurnTicket
from core.parts import (
    ActionRows,
    ActionsPart,
    Media,
    MediaPart,
    Progress,
    ProgressPart,
    ReplyPart,
    TextPart,
)

log = logging.getLogger(__name__)

Translate = Callable[..., str]
"""``t(key, lang, **params) -> str`` (``ChatCore.t``)."""

MB = 1024 * 1024


def progress_text(progress: Progress, t: Translate, lang: str) -> str:
    """The localized progress line, with `` NN%`` when a percent is known."""
    text = t(progress.key, lang, **progress.params) if progress.key else ""
    if progress.percent is not None:
        text = f"{text} {max(0, min(100, progress.percent))}%".strip()
    return text or "…"


class PartPresenter:
    """Shows parts in one destination. ``reply_first``: the first message sent replies
    to the user's request (where the surface supports replies). ``retry_every``: seconds
    between asks for a preview slot while a progress update is deferred."""

    def __init__(self, surface: Surface, pacer: Pacer, t: Translate, lang: str, *,
                 reply_first: bool = True, retry_every: float = 0.5) -> None:
        self.surface = surface
        self.pacer = pacer
        self.t = t
        self.lang = lang
        self._reply = reply_first
        self.shown: dict[str, Shown] = {}
        self.sent: list[Any] = []
        """Every handle sent, in order (adapters remember them, e.g. for replies)."""
        self.retry_every = retry_every
        self._pending: dict[str, ProgressPart] = {}
        self._retries: dict[str, asyncio.Task[None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._writing: set[str] = set()
        self._flushing = False
        self.reports = ShownReports(surface)
        """Where part refs are shown: reported to the followed ticket."""

    def follow(self, ticket: TurnTicket) -> None:
        """Present ``ticket``'s parts: continue the messages that already show its parts
        (``ticket.showing``, e.g. a progress message shown before a restart) and report
        every change of the messages showing a part to ``ticket.part_shown``."""
        for ref, shown in self.reports.follow(ticket).items():
            self.shown.setdefault(ref, shown)

    @property
    def presented(self) -> bool:
        """Whether parts are on screen: sent here, or continued from a restored message
        (edited in place: nothing new was sent)."""
        return bool(self.sent or self.shown)

    def _take_reply(self) -> bool:
        reply, self._reply = self._reply, False
        return reply

    # ------------------------------------------------------------------ show
    async def show(self, part: ReplyPart) -> Shown:
        """Post ``part`` (a final write: waits for the pacer) and remember its ref."""
        shown = Shown(part, replied=self._reply)
        if isinstance(part, TextPart):
            await self.pacer.final_slot()
            shown.handles.append(await self.surface.send_text(part.text, (),
                                                              reply=self._take_reply()))
        elif isinstance(part, ActionsPart):
            await self.pacer.final_slot()
            shown.handles.append(await self.surface.send_text(
                part.text, part.actions, reply=self._take_reply()))
        elif isinstance(part, ProgressPart):
            await self.pacer.final_slot()
            text = progress_text(part.progress, self.t, self.lang)
            if part.progress.preview is not None:
                shown.handles += await self.surface.send_media(
                    [part.progress.preview], text, part.actions, reply=self._take_reply())
                shown.media = True
            else:
                shown.handles.append(await self.surface.send_text(
                    text, part.actions, reply=self._take_reply()))
        else:
            shown.handles += await self._send_media_part(part)
            shown.media = True
        self.sent += shown.handles
        if part.ref:
            self.shown[part.ref] = shown
            self.reports.report(part.ref, shown)
        return shown

    def _degrade(self, media: Sequence[Media]) -> tuple[list[Media], list[str]]:
        limits = self.surface.limits
        ok: list[Media] = []
        notices: list[str] = []
        for item in media:
            if item.size > limits.upload_max_bytes:
                notices.append(self.t("parts.too_large", self.lang,
                                      filename=item.filename or item.kind,
                                      size_mb=f"{item.size / MB:.1f}",
                                      limit_mb=f"{limits.upload_max_bytes / MB:.0f}"))
            elif item.kind == "image" and item.size > limits.photo_max_bytes:
                ok.append(replace(item, kind="file", filename=item.filename or "image.png"))
            else:
                ok.append(item)
        return ok, notices

    def _batches(self, media: list[Media]) -> list[list[Media]]:
        limits = self.surface.limits
        groups: list[list[Media]] = []
        if limits.mixed_albums:
            groups = [media] if media else []
        else:
            images = [m for m in media if m.kind == "image"]
            if images:
                groups.append(images)
            groups += [[m] for m in media if m.kind != "image"]
        size = max(1, limits.media_per_message)
        return [group[i:i + size] for group in groups for i in range(0, len(group), size)]

    async def _send_media_part(self, part: MediaPart) -> list[Any]:
        media, notices = self._degrade(part.media)
        batches = self._batches(media)
        handles: list[Any] = []
        for index, batch in enumerate(batches):
            last = index == len(batches) - 1
            actions = part.actions if last and not notices else ()
            caption = "\n".join(m.caption for m in batch if m.caption)
            if actions and len(batch) > 1 and not self.surface.limits.album_actions:
                await self.pacer.final_slot()
                handles += await self.surface.send_media(batch, caption, (),
                                                         reply=self._take_reply())
                await self.pacer.final_slot()
                handles.append(await self.surface.send_text(
                    self.t("parts.actions_below_album", self.lang), actions))
                continue
            await self.pacer.final_slot()
            handles += await self.surface.send_media(batch, caption, actions,
                                                     reply=self._take_reply())
        if notices:
            await self.pacer.final_slot()
            handles.append(await self.surface.send_text("\n".join(notices), part.actions,
                                                        reply=self._take_reply()))
        return handles

    # ------------------------------------------------------------------ update
    def _lock(self, ref: str) -> asyncio.Lock:
        lock = self._locks.get(ref)
        if lock is None:
            lock = self._locks[ref] = asyncio.Lock()
        return lock

    async def update(self, ref: str, part: ReplyPart) -> None:
        """Replace the part named ``ref`` by ``part`` (in place where possible).

        One write at a time per part: an update never races a replacement in flight.
        A progress → progress update is a droppable preview: when the pacer says no (or
        a write of the part is in flight) the newest one is shown once a *preview* slot
        is free (intermediate ones are dropped). Any other update (a result) is final:
        it drops the waiting preview, waits for a write in flight, and goes at once."""
        part = replace(part, ref=ref) if not part.ref else part
        old = self.shown.get(ref)
        if isinstance(part, ProgressPart) and old is not None \
                and isinstance(old.part, ProgressPart):
            await self._preview(ref, part)
            return
        await self._supersede(ref)
        async with self._lock(ref):
            await self.pacer.final_slot()
            old = self.shown.get(ref)
            if old is None:
                await self.show(part)
            else:
                await self._replace(old, part)

    async def _preview(self, ref: str, part: ProgressPart) -> None:
        lock = self._lock(ref)
        if lock.locked() or ref in self._retries:
            self._defer(ref, part)
            return
        async with lock:
            old = self.shown.get(ref)
            slot = self.pacer.preview_slot() if old is not None else None
            if slot is None or old is None:
                self._defer(ref, part)
                return
            try:
                with slot:
                    await self._replace(old, part)
            except Exception as error:
                log.info("progress update deferred: %r", error)
                self._defer(ref, part)

    def _defer(self, ref: str, part: ProgressPart) -> None:
        self._pending[ref] = part
        if ref not in self._retries:
            self._retries[ref] = asyncio.create_task(self._retry(ref))

    async def _supersede(self, ref: str) -> None:
        """Drop ``ref``'s deferred preview: a retry still waiting for a slot is cancelled,
        one in the middle of a write is awaited (never cut mid-send)."""
        self._pending.pop(ref, None)
        task = self._retries.pop(ref, None)
        if task is None:
            return
        if ref not in self._writing:
            task.cancel()
        await asyncio.wait([task])

    async def _retry(self, ref: str) -> None:
        """Show the newest deferred update of ``ref`` in a preview slot (asked for every
        ``retry_every`` s: previews yield to finals), or as a final after ``flush``. It
        is dropped when the part is gone or no progress any more (a result stays)."""
        try:
            while ref in self._pending:
                async with self._lock(ref):
                    old = self.shown.get(ref)
                    if old is None or not isinstance(old.part, ProgressPart):
                        self._pending.pop(ref, None)
                        return
                    slot = nullcontext() if self._flushing else self.pacer.preview_slot()
                    if slot is not None:
                        if self._flushing:
                            await self.pacer.final_slot()
                        await self._write_pending(ref, old, slot)
                        continue
                await asyncio.sleep(self.retry_every)
        finally:
            if self._retries.get(ref) is asyncio.current_task():
                del self._retries[ref]

    async def _write_pending(self, ref: str, old: Shown,
                             slot: AbstractContextManager[None]) -> None:
        part = self._pending.pop(ref)
        self._writing.add(ref)
        try:
            with slot:
                await self._replace(old, part)
        except Exception as error:  # a preview: logged, the next update carries on
            log.info("progress update dropped: %r", error)
        finally:
            self._writing.discard(ref)

    async def flush(self) -> None:
        """Show the deferred progress updates now (as finals) and wait until they are."""
        self._flushing = True
        try:
            while self._retries:
                await asyncio.wait(list(self._retries.values()))
        finally:
            self._flushing = False

    async def _replace(self, old: Shown, part: ReplyPart) -> None:
        """Edit ``old`` into ``part``; where the platform cannot, send ``part`` first and
        then delete ``old`` (the chat never shows neither, and a failed send keeps it).
        When ``old``'s message is gone (``Surface.missing``), ``part`` is sent anew; so
        it is when a restored message refuses the edit (whatever the platform says about
        a message from an earlier run, the part is shown, and the old one deleted)."""
        gone = False
        try:
            if await self._edit(old, part):
                if part.ref:
                    self.reports.report(part.ref, old)
                return
        except CannotEdit:
            pass
        except Exception as error:
            gone = self.surface.missing(error)
            if not (gone or old.restored):
                raise
            log.info("a message could not be edited: sent anew (%r)", error)
        self._reply = self._reply or old.replied  # the new message quotes the request
        await self.show(part)
        for handle in [] if gone else old.handles:
            with contextlib.suppress(Exception):
                await self.surface.delete(handle)

    async def _edit(self, old: Shown, part: ReplyPart) -> bool:
        """Edit ``old`` into ``part`` in place; False when the platform cannot."""
        single = self._single_media(part)
        text, actions = self._text_of(part)
        if single is not None or (isinstance(part, ProgressPart) and old.media):
            if len(old.handles) == 1 and (old.media or
                                          self.surface.limits.media_edit_from_text):
                old.handles[0] = await self.surface.edit_media(old.handles[0], single,
                                                               text, actions)
                old.part, old.media = part, old.media or single is not None
                return True
        elif isinstance(part, TextPart | ActionsPart | ProgressPart) and not old.media \
                and len(old.handles) == 1:
            old.handles[0] = await self.surface.edit_text(old.handles[0], text, actions)
            old.part = part
            return True
        return False

    def _single_media(self, part: ReplyPart) -> Media | None:
        if isinstance(part, MediaPart):
            media, notices = self._degrade(part.media)
            return media[0] if len(media) == 1 and not notices else None
        if isinstance(part, ProgressPart):
            return part.progress.preview
        return None

    def _text_of(self, part: ReplyPart) -> tuple[str, ActionRows]:
        if isinstance(part, ProgressPart):
            return progress_text(part.progress, self.t, self.lang), part.actions
        if isinstance(part, MediaPart):
            return "\n".join(m.caption for m in part.media if m.caption), part.actions
        if isinstance(part, ActionsPart):
            return part.text, part.actions
        return part.text, ()
