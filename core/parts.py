"""Neutral reply parts: everything a bot can show, independent of the platform.

The core emits these (inside turn events and command replies); each adapter renders
them natively through the shared presenter and degrades explicitly where its platform
lacks something (e.g. Telegram albums cannot carry inline keyboards: the buttons go on
a separate message; a photo over the platform's upload limit goes as a document).

Shapes and units:

* ``Media`` carries ``data`` (bytes) or a ``url`` that is safe to share publicly (never
  a platform file URL with a bot token, never a signed gateway URL: those are fetched
  by the core and passed as bytes). ``size`` is in bytes (``len(data)`` when known).
* ``Action`` is one button. ``action_id`` is the short opaque id of a row in the
  ``actions`` table (:mod:`core.actions`), at most ``ACTION_ID_MAX`` ASCII characters
  so it fits Telegram's ``callback_data`` (Bot API: 1-64 bytes) and Discord's
  ``custom_id`` (Discord: at most 100 characters) with a prefix.
* ``Progress`` is a localized i18n key with params, an optional percent (0-100) and an
  optional preview image.
* ``PartRef`` names an earlier part (``ref``) so a later ``PartUpdate`` can replace it
  in place (a progress message that becomes the result).
* ``ShownAt`` says which platform messages show a part ``ref`` (reported by the
  presenter, stored by the core, handed back after a restart so the same message goes on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MediaKind = Literal["image", "audio", "voice", "file"]
Who = Literal["anyone", "requester", "admins"]
ButtonStyle = Literal["primary", "secondary", "success", "danger"]

ACTION_ID_MAX = 24
"""Longest ``Action.action_id`` (ASCII chars). Telegram ``callback_data`` allows 64
bytes and Discord ``custom_id`` 100 characters; 24 leaves room for a routing prefix."""


@dataclass(frozen=True, slots=True)
class Media:
    """An image, audio clip, voice note or file to show.

    Exactly one of ``data`` (raw bytes) and ``url`` (public, shareable) is set.
    ``size`` is in bytes (0 when unknown, e.g. for a URL).
    """

    kind: MediaKind
    data: bytes | None = None
    url: str | None = None
    mime: str = "application/octet-stream"
    filename: str = ""
    caption: str = ""
    """Markdown caption (rendered like answer text; adapters clip to their limit)."""
    size: int = 0

    def __post_init__(self) -> None:
        if (self.data is None) == (self.url is None):
            raise ValueError("Media needs exactly one of data and url")
        if self.data is not None and not self.size:
            object.__setattr__(self, "size", len(self.data))


@dataclass(frozen=True, slots=True)
class Action:
    """A button: pressing it runs ``ChatCore.run_action(action_id, chat, actor)``.

    ``label`` is already localized; ``icon`` is an emoji shown before it. ``who`` is
    who may press it (checked by the core when pressed, not by the adapter).
    """

    action_id: str
    label: str
    icon: str = ""
    style: ButtonStyle = "secondary"
    who: Who = "anyone"
    url: str = ""
    """A link button instead of a callback (no action row is run); must be public."""


ActionRows = tuple[tuple[Action, ...], ...]
"""Buttons laid out in rows (Telegram: ≤ 8 per row assumed readable; Discord: ≤ 5
components per action row and ≤ 5 rows per message — Discord docs)."""


@dataclass(frozen=True, slots=True)
class Progress:
    """A status line: ``key``/``params`` localize it; ``percent`` is 0-100 or None.

    The adapters append `` NN%`` to the localized line when ``percent`` is set, so the
    message for ``key`` must not contain the percent itself."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    percent: int | None = None
    preview: Media | None = None


@dataclass(frozen=True, slots=True)
class TextPart:
    """Markdown text (a whole message; streamed answers use ``TextDelta`` events)."""

    text: str
    ref: str = ""


@dataclass(frozen=True, slots=True)
class MediaPart:
    """One or more media items (an album when several) with optional buttons.

    Platforms that cannot put buttons on an album send them on a separate message.
    """

    media: tuple[Media, ...]
    actions: ActionRows = ()
    ref: str = ""
    reply_to_request: bool = True
    mention_requester: bool = False


@dataclass(frozen=True, slots=True)
class ActionsPart:
    """Buttons with a short Markdown text (a menu, a picker, a follow-up offer)."""

    text: str
    actions: ActionRows
    ref: str = ""


@dataclass(frozen=True, slots=True)
class ProgressPart:
    """A progress message; a later ``PartUpdate`` with the same ``ref`` replaces it."""

    progress: Progress
    ref: str = ""
    actions: ActionRows = ()


ReplyPart = TextPart | MediaPart | ActionsPart | ProgressPart


@dataclass(frozen=True, slots=True)
class PartUpdate:
    """Replace the earlier part named ``ref`` with ``part`` (edited in place where the
    platform allows; otherwise the old message is deleted and the new one sent)."""

    ref: str
    part: ReplyPart


@dataclass(frozen=True, slots=True)
class ShownAt:
    """The platform messages showing one part: ``message_ids`` as strings (a Telegram
    message id, a Discord message snowflake; several for an album), ``media``: they
    carry media (Telegram can edit only a media message into another media one)."""

    message_ids: tuple[str, ...]
    media: bool = False

    def to_json(self) -> dict[str, Any]:
        """``{"ids": [...], "media": bool}`` (what the core stores)."""
        return {"ids": list(self.message_ids), "media": self.media}

    @classmethod
    def from_json(cls, value: Any) -> ShownAt | None:
        """The inverse of ``to_json``; ``None`` for anything malformed."""
        if not isinstance(value, dict) or not isinstance(value.get("ids"), list):
            return None
        ids = tuple(str(i) for i in value["ids"] if isinstance(i, str | int))
        return cls(ids, bool(value.get("media"))) if ids else None
