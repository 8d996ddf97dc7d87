"""What a task looks like in the chat: progress, the finished image with its buttons,
describe/shorten prompts with "imagine this" buttons, failures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.events import PartShown, PartUpdated, TurnEvent, TurnFailed, TurnFinal
from core.i18n import t
from core.image_jobs import not_started_progress
from core.midjourney.buttons import (
    button_info,
    described_prompts,
    shortened_prompts,
    task_buttons,
)
from core.midjourney.images import PHOTO_LIMIT, image_size, sniff_mime
from core.parts import (
    Action,
    ActionRows,
    ActionsPart,
    Media,
    MediaPart,
    PartUpdate,
    Progress,
    ProgressPart,
    Who,
)
from core.storage.mj_tasks_repo import MjTaskRow

if TYPE_CHECKING:
    from core.actions import ActionService
    from core.conversation.keys import ChatRef
    from core.midjourney.client import MjClient

JOB = "job"
"""``ref`` of the job's part: the progress message that becomes the result."""
MODEL = "midjourney"
ROW_MAX = 5
"""Buttons per row (Discord: at most 5 components per action row)."""


def percent_of(task: dict[str, Any]) -> int | None:
    """``progress`` "37%" → 37 (None when absent)."""
    text = str(task.get("progress") or "").strip().rstrip("%")
    try:
        return max(0, min(100, int(float(text))))
    except ValueError:
        return None


def status_progress(row: MjTaskRow, position: int = 0) -> Progress:
    """The status line before a percent is known."""
    if position:
        return Progress("mj.progress.queued", {"position": position})
    return Progress("mj.progress.waiting")


def caption(prompt: str, lang: str) -> str:
    """The result's Markdown caption: the prompt as inline code (backticks removed)."""
    return t("mj.caption", lang, prompt=prompt.replace("`", "'")[:900]) if prompt else ""


async def button_rows(actions: ActionService, chat: ChatRef, row: MjTaskRow,
                      lang: str, who: Who = "requester") -> ActionRows:
    """Buttons for ``row.buttons`` (kind ``mj.button``) plus 🌱 seed (``mj.seed``),
    grouped by purpose and at most ``ROW_MAX`` per row; ``who`` may press them (the
    chat setting ``image_buttons``)."""
    infos = [(custom, button_info(custom)) for custom in row.buttons]
    specs: list[tuple[str, dict[str, Any]]] = [
        ("mj.button", {"task_id": row.id, "custom_id": custom}) for custom, _ in infos]
    if row.buttons:
        specs.append(("mj.seed", {"task_id": row.id}))
    if not specs:
        return ()
    ids = await actions.create_many(specs, chat=chat, owner_id=row.requester_id, who=who)
    grouped: dict[int, list[Action]] = {}
    for action_id, (_, info) in zip(ids, infos, strict=False):
        assert info is not None
        label = info.label or (t(info.label_key, lang) if info.label_key else "")
        grouped.setdefault(info.row, []).append(Action(action_id, label, icon=info.icon))
    last = max(grouped) if grouped else 0
    grouped.setdefault(last, []).append(Action(ids[-1], t("mj.btn.seed", lang), icon="🌱"))
    rows: list[tuple[Action, ...]] = []
    for key in sorted(grouped):
        buttons = grouped[key]
        rows += [tuple(buttons[i:i + ROW_MAX]) for i in range(0, len(buttons), ROW_MAX)]
    return tuple(rows)


async def prompt_rows(actions: ActionService, chat: ChatRef, row: MjTaskRow,
                      prompts: list[str], lang: str, who: Who = "requester") -> ActionRows:
    """One "Imagine n" button per prompt (kind ``mj.imagine``): the client imagines the
    line itself (gateways refuse PicReader / PromptAnalyzer buttons)."""
    if not prompts:
        return ()
    bot_type = str(row.properties.get("botType") or "MID_JOURNEY")
    ids = await actions.create_many(
        [("mj.imagine", {"prompt": p, "bot_type": bot_type, "speed": row.speed})
         for p in prompts], chat=chat, owner_id=row.requester_id, who=who)
    buttons = [Action(i, t("mj.imagine_n", lang, n=n), icon="🎨")
               for n, i in enumerate(ids, 1)]
    return tuple(tuple(buttons[i:i + ROW_MAX]) for i in range(0, len(buttons), ROW_MAX))


async def result_events(client: MjClient, actions: ActionService, chat: ChatRef,
                        row: MjTaskRow, task: dict[str, Any], *, shown: bool,
                        who: Who = "requester") -> list[TurnEvent]:
    """The events ending a SUCCESS task (``shown``: the progress part was shown in this
    ticket, so the result replaces it; else the result is shown anew). Results larger
    than ``PHOTO_LIMIT`` bytes are ``Media(kind="file")`` (sent as documents)."""
    lang = row.lang
    if row.action in ("DESCRIBE", "SHORTEN"):
        prompts = (described_prompts(task) if row.action == "DESCRIBE"
                   else shortened_prompts(task))
        lines = "\n".join(f"{n}. `{_code(p)}`" for n, p in enumerate(prompts, 1))
        key = "mj.describe.result" if row.action == "DESCRIBE" else "mj.shorten.result"
        part: Any = ActionsPart(t(key, lang, lines=lines),
                                await prompt_rows(actions, chat, row, prompts, lang, who),
                                ref=JOB)
    else:
        data = await client.image(str(task.get("imageUrl") or row.image_url))
        width, height = image_size(data)
        row.properties.update({"width": width, "height": height})
        row.buttons = task_buttons(task)
        mime = sniff_mime(data)
        media = Media("file" if len(data) > PHOTO_LIMIT else "image", data=data, mime=mime,
                      filename=f"mj-{row.id}.{mime.rsplit('/', 1)[-1]}",
                      caption=caption(row.prompt, lang))
        part = MediaPart((media,), actions=await button_rows(actions, chat, row, lang, who),
                         ref=JOB, reply_to_request=True, mention_requester=not chat.is_private)
    shown_event: TurnEvent = PartUpdated(PartUpdate(JOB, part)) if shown else PartShown(part)
    return [shown_event, TurnFinal(turn_id=row.id, model=MODEL, text="")]


def failure_event(row: MjTaskRow, reason: str, refunds: bool) -> TurnFailed:
    """``mj.failed`` with the proxy's reason and, when enabled, the refund note."""
    refund = t("mj.refund_note", row.lang) if refunds else ""
    reason = reason.strip().rstrip("。.") or "?"  # the text adds the full stop
    return TurnFailed("mj.failed", {"reason": reason, "refund": refund})


def closing_events(events: list[TurnEvent]) -> list[TurnEvent]:
    """``events`` for a ticket that shows the progress part: a failure (or timeout) first
    turns that part into "stopped", so a blurry preview never keeps saying "Drawing…"."""
    if events and isinstance(events[-1], TurnFailed):
        stopped = ProgressPart(Progress("mj.progress.stopped"), ref=JOB)
        return [PartUpdated(PartUpdate(JOB, stopped)), *events]
    return events


def not_started_events() -> list[TurnEvent]:
    """A queued job dropped at a shutdown: its status says so, then it ends quietly."""
    return [PartUpdated(PartUpdate(JOB, not_started_progress(JOB))),
            TurnFinal(turn_id="", model="midjourney", text="")]


def timeout_event(row: MjTaskRow, timeout: float, refunds: bool) -> TurnFailed:
    """``mj.timeout`` after ``timeout`` seconds (shown in whole minutes)."""
    refund = t("mj.refund_note", row.lang) if refunds else ""
    return TurnFailed("mj.timeout", {"minutes": max(1, round(timeout / 60)),
                                     "refund": refund})


def _code(text: str) -> str:
    return text.replace("`", "'")
