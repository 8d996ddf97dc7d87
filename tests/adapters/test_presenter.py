"""The shared presenter's decisions, on a recording surface: how parts degrade."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest

from adapters.common.presenter import PartPresenter
from adapters.common.surface import CannotEdit, Limits
from core.conversation.tickets import TurnTicket
from core.i18n import t
from core.parts import (
    Action,
    ActionRows,
    Media,
    MediaPart,
    Progress,
    ProgressPart,
    ShownAt,
)

MB = 1024 * 1024
TELEGRAM_LIKE = Limits(photo_max_bytes=10 * MB, upload_max_bytes=50 * MB,
                       media_per_message=10, album_actions=False, mixed_albums=False,
                       media_edit_from_text=False)
DISCORD_LIKE = Limits(photo_max_bytes=25 * MB, upload_max_bytes=25 * MB, media_per_message=10,
                      album_actions=True, mixed_albums=True, media_edit_from_text=True)
AGAIN: ActionRows = ((Action("id1", "Again"),),)


class Recorder:
    """A surface that records calls; handles are increasing ints. ``screen``: what the
    chat shows (handle → text/caption). ``hold()``: the next media write waits (after
    setting ``entered``) until the returned event is set — a write in flight."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.calls: list[tuple[Any, ...]] = []
        self.media_handles: set[int] = set()
        self.screen: dict[int, str] = {}
        self.refuse: set[int] = set()
        """Handles whose edits are refused (``Refused``)."""
        self.entered = asyncio.Event()
        self._release: asyncio.Event | None = None
        self._next = 0

    def hold(self) -> asyncio.Event:
        self._release = asyncio.Event()
        return self._release

    async def _in_flight(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            self.entered.set()
            await release.wait()

    def _handle(self) -> int:
        self._next += 1
        return self._next

    async def send_text(self, markdown: str, actions: ActionRows, *,
                        reply: bool = False) -> int:
        self.calls.append(("text", markdown, bool(actions)))
        handle = self._handle()
        self.screen[handle] = markdown
        return handle

    async def edit_text(self, handle: int, markdown: str, actions: ActionRows) -> int:
        if handle not in self.screen:
            raise Gone(handle)
        if handle in self.refuse:
            raise Refused(handle)
        self.calls.append(("edit_text", handle, markdown))
        self.screen[handle] = markdown
        return handle

    async def delete(self, handle: int) -> None:
        self.calls.append(("delete", handle))
        self.screen.pop(handle, None)

    async def send_media(self, media: Sequence[Media], caption: str, actions: ActionRows, *,
                         reply: bool = False) -> list[int]:
        await self._in_flight()
        self.calls.append(("media", [m.kind for m in media], bool(actions)))
        handles = [self._handle() for _ in media]
        self.media_handles.update(handles)
        self.screen.update(dict.fromkeys(handles, caption))
        return handles

    async def edit_media(self, handle: int, media: Media | None, caption: str,
                         actions: ActionRows) -> int:
        if handle not in self.screen:
            raise Gone(handle)
        if handle in self.refuse:
            raise Refused(handle)
        if handle not in self.media_handles:
            raise CannotEdit("text")
        await self._in_flight()
        self.calls.append(("edit_media", handle, caption))
        self.screen[handle] = caption
        return handle

    async def typing(self) -> None:
        return None

    def message_id(self, handle: int) -> str:
        return str(handle)

    def handle_of(self, message_id: str, media: bool) -> int:
        if media:
            self.media_handles.add(int(message_id))
        return int(message_id)

    def missing(self, error: BaseException) -> bool:
        return isinstance(error, Gone)


class Gone(Exception):
    """An edit of a message that is not on the screen (deleted by a user)."""


class Refused(Exception):
    """An edit the platform refuses (a message in ``Recorder.refuse``)."""


class Gate:
    """A pacer whose previews are allowed only while ``open``."""

    def __init__(self) -> None:
        self.open = True
        self.finals = 0
        self.asks = 0
        self.log: list[str] = []
        """Every slot asked for, in order: "preview" or "final"."""

    def preview_slot(self) -> AbstractContextManager[None] | None:
        self.asks += 1
        self.log.append("preview")
        return nullcontext() if self.open else None

    async def final_slot(self) -> None:
        self.finals += 1
        self.log.append("final")


def presenter(limits: Limits = TELEGRAM_LIKE) -> tuple[PartPresenter, Recorder, Gate]:
    surface, gate = Recorder(limits), Gate()
    return PartPresenter(surface, gate, t, "en", retry_every=0.001), surface, gate


def image(size: int = 100, kind: str = "image") -> Media:
    return Media(kind, data=b"x" * size, mime="image/png")  # type: ignore[arg-type]


async def test_an_album_sends_its_buttons_on_a_separate_message() -> None:
    parts, surface, _ = presenter()
    await parts.show(MediaPart((image(), image()), actions=AGAIN))
    assert surface.calls == [("media", ["image", "image"], False),
                             ("text", "⬆️ Options for the pictures above:", True)]


async def test_a_single_image_keeps_its_buttons() -> None:
    parts, surface, _ = presenter()
    await parts.show(MediaPart((image(),), actions=AGAIN))
    assert surface.calls == [("media", ["image"], True)]


async def test_big_images_become_files_and_files_leave_the_album() -> None:
    parts, surface, _ = presenter()
    await parts.show(MediaPart((image(), image(11 * MB), image())))
    assert surface.calls == [("media", ["image", "image"], False), ("media", ["file"], False)]


async def test_media_over_the_upload_limit_are_named_in_a_notice() -> None:
    parts, surface, _ = presenter()
    too_big = Media("file", data=b"x" * (51 * MB), filename="movie.mp4")
    await parts.show(MediaPart((too_big,), actions=AGAIN))
    assert surface.calls == [("text", "📎 movie.mp4 is too large to send here (51.0 MB; "
                                      "the limit is 50 MB).", True)]


async def test_more_than_ten_images_go_in_several_albums() -> None:
    parts, surface, _ = presenter()
    await parts.show(MediaPart(tuple(image() for _ in range(12)), actions=AGAIN))
    assert [call[:2] for call in surface.calls] == [
        ("media", ["image"] * 10), ("media", ["image"] * 2),
        ("text", "⬆️ Options for the pictures above:")]


async def test_a_skipped_progress_update_is_shown_once_a_slot_is_free() -> None:
    parts, surface, gate = presenter()
    await parts.show(ProgressPart(Progress("tool.running", {"name": "x"}, percent=1),
                                  ref="job"))
    gate.open = False
    for percent in (20, 40, 60):  # droppable: only the newest is owed
        await parts.update("job", ProgressPart(Progress("tool.running", {"name": "x"},
                                                        percent=percent)))
    await parts.flush()
    assert surface.calls == [("text", "🔧 x… 1%", False), ("edit_text", 1, "🔧 x… 60%")]


async def test_a_result_replaces_a_text_progress_by_send_then_delete_on_telegram() -> None:
    parts, surface, _ = presenter()
    await parts.show(ProgressPart(Progress("tool.running", {"name": "x"}), ref="job"))
    await parts.update("job", MediaPart((image(),), actions=AGAIN))
    assert surface.calls == [("text", "🔧 x…", False), ("media", ["image"], True),
                             ("delete", 1)]


async def test_a_result_edits_a_text_progress_in_place_where_the_platform_can() -> None:
    limits = Limits(photo_max_bytes=25 * MB, upload_max_bytes=25 * MB, media_per_message=10,
                    album_actions=True, mixed_albums=True, media_edit_from_text=True)
    parts, surface, _ = presenter(limits)
    surface.media_handles.add(1)  # Discord: any message takes attachments
    await parts.show(ProgressPart(Progress("tool.running", {"name": "x"}), ref="job"))
    await parts.update("job", MediaPart((image(),), actions=AGAIN))
    assert surface.calls == [("text", "🔧 x…", False), ("edit_media", 1, "")]


def drawing(percent: int | None = None, preview: bool = True) -> ProgressPart:
    """An MJ-like progress part: "🔧 x… NN%" with a preview image."""
    return ProgressPart(Progress("tool.running", {"name": "x"}, percent=percent,
                                 preview=image() if preview else None))


async def submitted(limits: Limits) -> tuple[PartPresenter, Recorder, Gate]:
    """A presenter showing the text status "🔧 x…" as part ``job`` (handle 1)."""
    parts, surface, gate = presenter(limits)
    if limits.media_edit_from_text:
        surface.media_handles.add(1)  # Discord: any message takes attachments
    await parts.show(ProgressPart(Progress("tool.running", {"name": "x"}), ref="job"))
    return parts, surface, gate


@pytest.mark.parametrize("limits", [TELEGRAM_LIKE, DISCORD_LIKE], ids=["telegram", "discord"])
async def test_a_progress_update_during_a_replacement_in_flight_leaves_one_message(
        limits: Limits) -> None:
    parts, surface, gate = await submitted(limits)
    gate.open = False
    await parts.update("job", drawing(10))  # no slot: deferred to a background retry
    release = surface.hold()
    gate.open = True
    await surface.entered.wait()  # the retry's write (the 10 % preview) is in flight
    await parts.update("job", drawing(50))  # arrives meanwhile: queued behind it
    release.set()
    await parts.flush()
    assert list(surface.screen.values()) == ["🔧 x… 50%"]


@pytest.mark.parametrize("limits", [TELEGRAM_LIKE, DISCORD_LIKE], ids=["telegram", "discord"])
async def test_a_result_during_a_replacement_in_flight_waits_for_it_then_replaces_it(
        limits: Limits) -> None:
    parts, surface, gate = await submitted(limits)
    gate.open = False
    await parts.update("job", drawing(10))
    release = surface.hold()
    gate.open = True
    await surface.entered.wait()
    result = asyncio.create_task(parts.update("job", MediaPart((image(),), actions=AGAIN)))
    release.set()
    await result
    await parts.flush()
    assert list(surface.screen.values()) == [""]  # the result (no caption), nothing else
    assert surface.calls[-1][0] in ("delete", "edit_media")


@pytest.mark.parametrize("limits", [TELEGRAM_LIKE, DISCORD_LIKE], ids=["telegram", "discord"])
async def test_a_result_drops_a_preview_waiting_for_a_slot_and_goes_at_once(
        limits: Limits) -> None:
    parts, surface, gate = await submitted(limits)
    gate.open = False
    await parts.update("job", drawing(40))  # waits for a preview slot
    await parts.update("job", MediaPart((image(),), actions=AGAIN))
    shown = list(surface.calls)
    gate.open = True
    await parts.flush()  # would write an owed preview now: there is none
    assert surface.calls == shown
    assert "🔧 x… 40%" not in [call[-1] for call in surface.calls]
    assert list(surface.screen.values()) == [""]


async def test_a_deferred_preview_waits_for_a_preview_slot_not_a_final_one() -> None:
    parts, surface, gate = await submitted(TELEGRAM_LIKE)
    gate.open = False
    await parts.update("job", drawing(40))
    mark = len(gate.log)
    async with asyncio.timeout(5):  # barrier: the retry has asked three more times...
        while len(gate.log) < mark + 3:
            await asyncio.sleep(0)
    assert gate.log[mark:mark + 3] == ["preview"] * 3  # ...each time for a preview slot
    gate.open = True
    await parts.flush()
    assert list(surface.screen.values()) == ["🔧 x… 40%"]


def resumed(*ids: int, media: bool = False) -> TurnTicket:
    """A ticket resumed after a restart: part "job" was shown by ``ids``."""
    ticket = TurnTicket("en", lambda _ticket: None)
    ticket.showing["job"] = ShownAt(tuple(str(i) for i in ids), media)
    return ticket


async def test_where_a_part_is_shown_is_reported_when_its_messages_change() -> None:
    """progress (text #1) → progress with a preview (Telegram: photo #2 sent, #1
    deleted) → another preview (edited in place: nothing to report) → gone (no)."""
    parts, surface, _ = presenter()
    ticket = TurnTicket("en", lambda _ticket: None)
    reports: list[tuple[str, ShownAt | None]] = []
    ticket.on_shown(lambda ref, where: reports.append((ref, where)))
    parts.follow(ticket)

    await parts.show(ProgressPart(Progress("tool.running", {"name": "x"}), ref="job"))
    await parts.update("job", ProgressPart(Progress("tool.running", {"name": "x"},
                                                    preview=image())))
    await parts.update("job", ProgressPart(Progress("tool.running", {"name": "x"},
                                                    percent=50, preview=image())))

    assert reports == [("job", ShownAt(("1",))), ("job", ShownAt(("2",), media=True))]
    assert ticket.showing == {"job": ShownAt(("2",), media=True)}
    assert ("delete", 1) in surface.calls


@pytest.mark.parametrize(("media", "calls"), [
    (True, [("edit_media", 7, "")]),  # a preview photo becomes the result
    (False, [("media", ["image"], True), ("delete", 7)])])  # text: send, then delete
async def test_a_result_continues_the_message_shown_before_a_restart(
        media: bool, calls: list[tuple[Any, ...]]) -> None:
    parts, surface, _ = presenter()
    surface.screen[7] = "🎨 Drawing… 30%"  # sent by the previous run
    parts.follow(resumed(7, media=media))

    await parts.update("job", MediaPart((image(),), actions=AGAIN))

    assert surface.calls == calls
    assert parts.presented


async def test_a_resumed_progress_update_edits_the_old_message() -> None:
    parts, surface, _ = presenter()
    surface.screen[7] = "🔧 x… 30%"
    parts.follow(resumed(7))

    await parts.update("job", ProgressPart(Progress("tool.running", {"name": "x"},
                                                    percent=70)))
    await parts.flush()

    assert surface.calls == [("edit_text", 7, "🔧 x… 70%")]


@pytest.mark.parametrize("part", [
    MediaPart((image(),), actions=AGAIN),
    ProgressPart(Progress("tool.running", {"name": "x"}, percent=70))],
    ids=["result", "progress"])
async def test_a_message_deleted_by_a_user_is_replaced_by_a_new_one(
        part: MediaPart | ProgressPart) -> None:
    """The message showing the part is gone (not on the screen): the update is sent as
    a new message, nothing is deleted, no error; the new message is reported."""
    parts, surface, _ = presenter(DISCORD_LIKE)  # Discord edits text into media
    ticket = resumed(7)
    parts.follow(ticket)

    await parts.update("job", part)
    await parts.flush()

    assert len(surface.calls) == 1 and surface.calls[0][0] in ("media", "text")
    assert ticket.showing["job"].message_ids == ("1",)


async def test_a_restored_message_that_refuses_the_edit_is_replaced() -> None:
    """The platform refuses to edit a message of the previous run (not "gone": e.g.
    Discord 403 on a message it no longer lets the bot edit) → the result is sent and
    the old message deleted; a live message refusing the same way raises."""
    parts, surface, _ = presenter(DISCORD_LIKE)
    surface.screen[7] = "🎨 Drawing… 30%"
    surface.refuse = {7}
    parts.follow(resumed(7))

    await parts.update("job", MediaPart((image(),), actions=AGAIN))

    assert surface.calls == [("media", ["image"], True), ("delete", 7)]
    surface.refuse = {1}
    with pytest.raises(Refused):
        await parts.update("job", MediaPart((image(),)))
