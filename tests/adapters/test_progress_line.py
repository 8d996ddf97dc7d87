"""A progress line shows its percent once: the presenter appends ``percent``, so no
message of a percent progress repeats it (a Midjourney task at 54 % read
"🎨 Drawing… 54% 54%")."""

from __future__ import annotations

import core.midjourney.texts  # noqa: F401  (registers the mj.* messages)
from adapters.common.presenter import progress_text
from core.i18n.catalog import _CATALOGS, t
from core.parts import Progress


def test_a_midjourney_task_at_54_percent_reads_drawing_54_percent_once() -> None:
    progress = Progress("mj.progress.running", {"percent": 54}, percent=54)

    assert progress_text(progress, t, "en") == "🎨 Drawing… 54%"
    assert progress_text(progress, t, "zh") == "🎨 绘制中… 54%"


def test_no_message_carries_a_percent_placeholder_the_presenter_appends_anyway() -> None:
    doubled = {(lang, key) for lang, messages in _CATALOGS.items()
               for key, text in messages.items() if "{percent}" in text}

    assert doubled == set()
