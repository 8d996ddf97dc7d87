"""Button presses on Midjourney results, modals (Custom Zoom, Vary Region, remix) and
the Vary Region picker.

Action kinds: ``mj.button`` {task_id, custom_id} → ``/mj/submit/action``;
``mj.imagine`` {prompt, bot_type, speed} (describe/shorten lines); ``mj.seed``
{task_id}; ``mj.modal`` {modal_id} (the action behind a ``PromptRequest``);
``mj.mask.toggle`` {modal_id, cell} and ``mj.mask.done`` {modal_id} (a 3×3 board).
"""

from __future__ import annotations

import re

from core.actions import ActionContext, ActionOutcome, PromptRequest
from core.commands.replies import CommandReply
from core.conversation.keys import Actor, ChatRef
from core.errors import UserInputError
from core.i18n import t
from core.midjourney.buttons import button_info, restore_flags, take_speed
from core.midjourney.client import Speed, SubmitResult
from core.midjourney.images import GRID, data_url, mask_from_cells, mask_from_image
from core.midjourney.jobs import Job
from core.midjourney.service import Midjourney
from core.midjourney.specs import SPEEDS
from core.parts import Action, ActionsPart
from core.storage.mj_tasks_repo import MjTaskRow

_ZOOM = re.compile(r"--zoom\s+([0-9]*\.?[0-9]+)")
MODAL_TTL = 3600.0
"""Seconds a modal's prompt/picker buttons stay usable (assumed; the proxy's MODAL task
expires on its side too)."""


class Presses:
    """Registers the action kinds and implements ``ChatCore.submit_prompt``."""

    def __init__(self, mj: Midjourney) -> None:
        self.mj = mj
        actions = mj.core.actions
        who = mj.core.images_button_who  # result buttons: the chat setting at press time
        actions.register("mj.button", self.button, who=who)
        actions.register("mj.imagine", self.imagine, who=who)
        actions.register("mj.seed", self.seed, who=who)
        actions.register("mj.modal", self.modal_prompt)
        actions.register("mj.mask.toggle", self.toggle)
        actions.register("mj.mask.done", self.done)
        actions.register_answer("mj.mask.done", accepts_mask=True)  # a reply to the picker

    def _row(self, ctx: ActionContext, action: str, prompt: str, speed: str,
             parent: MjTaskRow | None) -> MjTaskRow:
        chat = ctx.chat
        props = {"botType": parent.properties.get("botType", "MID_JOURNEY")} if parent else {}
        return MjTaskRow(id="", action=action, platform=chat.platform, chat_id=chat.chat_id,
                         thread_id=chat.thread_id, is_private=chat.is_private,
                         requester_id=ctx.actor.user_id, lang=ctx.lang, prompt=prompt,
                         speed=speed, parent_id=parent.id if parent else None,
                         properties=props)

    async def button(self, ctx: ActionContext) -> ActionOutcome:
        """Press a task button: a new task (ticket), or a prompt / region picker when the
        gateway answers with a modal (code 21, or 1 + "confirm"/remix)."""
        task_id, custom_id = str(ctx.payload["task_id"]), str(ctx.payload["custom_id"])
        info = button_info(custom_id)
        if info is None:
            raise UserInputError("mj.button_unsupported")
        parent = await self.mj.repo.get(task_id)
        speed = parent.speed if parent else ""
        label = info.label or (t(info.label_key, ctx.lang) if info.label_key else info.icon)
        row = self._row(ctx, _action_of(custom_id), parent.prompt if parent else "", speed,
                        parent)
        job = Job(info.price, lambda: self.mj.client.action(task_id, custom_id,
                                                            speed=_speed(speed)), row)
        # a press starts a task: it queues like any image job (the slot is held until
        # the task ends); a modal answer starts none
        launched = await self.mj.launch(
            job, ctx.chat, ctx.actor,
            late_modal=lambda result: self._late_modal(ctx, info.modal, row, parent, result))
        if launched.modal is None:
            return ActionOutcome(notice=t("mj.action_started", ctx.lang, action=label),
                                 ticket=launched.ticket)
        modal = await self._store_modal(info.modal, row, parent, launched.modal)
        if modal.properties["kind"] == "region":
            return ActionOutcome(reply=await self._board(ctx, modal))
        return ActionOutcome(prompt=await self._prompt_request(ctx.chat, ctx.actor, modal,
                                                               ctx.lang))

    async def _store_modal(self, kind: str | None, row: MjTaskRow, parent: MjTaskRow | None,
                           result: SubmitResult) -> MjTaskRow:
        """Store the MODAL task a press was answered with (its prompt, picker state)."""
        kind = kind or "remix"
        default = str(result.properties.get("finalPrompt") or row.prompt)
        if kind == "zoom" and not _ZOOM.search(default):
            default = f"{default} --zoom 2".strip()
        size = parent.properties if parent else {}
        modal = MjTaskRow(**{**row.values(), "id": result.task_id, "status": "MODAL",
                             "action": "MODAL", "prompt": default,
                             "properties": {**row.properties, "kind": kind, "cells": [],
                                            "width": size.get("width", 0),
                                            "height": size.get("height", 0)}})
        await self.mj.repo.upsert(modal)
        return modal

    async def _late_modal(self, ctx: ActionContext, kind: str | None, row: MjTaskRow,
                          parent: MjTaskRow | None, result: SubmitResult) -> ActionsPart:
        """A queued press answered with a modal: a button that asks for the prompt."""
        modal = await self._store_modal(kind, row, parent, result)
        action_id = await self.mj.core.actions.create(
            "mj.modal", {"modal_id": modal.id}, chat=ctx.chat, owner_id=ctx.actor.user_id,
            who="requester", ttl=MODAL_TTL)
        return ActionsPart(t("mj.modal_ready", ctx.lang), (
            (Action(action_id, t("mj.modal_open", ctx.lang), style="primary",
                    who="requester"),),))

    async def _prompt_request(self, chat: ChatRef, actor: Actor, modal: MjTaskRow,
                              lang: str) -> PromptRequest:
        kind = str(modal.properties.get("kind"))
        action_id = await self.mj.core.actions.create(
            "mj.modal", {"modal_id": modal.id}, chat=chat, owner_id=actor.user_id,
            who="requester", ttl=MODAL_TTL)
        return PromptRequest(action_id, t(f"mj.prompt.{kind}", lang),
                             default_text=modal.prompt, placeholder=modal.prompt[:64],
                             accepts_mask=kind == "region")

    async def modal_prompt(self, ctx: ActionContext) -> ActionOutcome:
        """The ``mj.modal`` action pressed as a button: ask for the prompt again."""
        modal = await self._modal(str(ctx.payload["modal_id"]))
        if modal.properties.get("kind") == "region" and not modal.properties.get("cells"):
            return ActionOutcome(reply=await self._board(ctx, modal))
        return ActionOutcome(prompt=await self._prompt_request(ctx.chat, ctx.actor, modal,
                                                               ctx.lang))

    async def _modal(self, modal_id: str) -> MjTaskRow:
        modal = await self.mj.repo.get(modal_id)
        if modal is None or modal.status != "MODAL":
            raise UserInputError("action.unknown")
        return modal

    async def _board(self, ctx: ActionContext, modal: MjTaskRow) -> CommandReply:
        """The region picker: GRID×GRID toggles (✅ selected, ⬜ not) and Done."""
        stored = modal.properties.get("board")
        if not stored:
            specs = [("mj.mask.toggle", {"modal_id": modal.id, "cell": c})
                     for c in range(GRID * GRID)]
            specs.append(("mj.mask.done", {"modal_id": modal.id}))
            stored = await self.mj.core.actions.create_many(
                specs, chat=ctx.chat, owner_id=ctx.actor.user_id, who="requester",
                ttl=MODAL_TTL)
            modal.properties["board"] = stored
            await self.mj.repo.update([modal])
        cells = set(modal.properties.get("cells") or ())
        rows = tuple(
            tuple(Action(stored[r * GRID + c], "", icon="✅" if r * GRID + c in cells else "⬜",
                         who="requester") for c in range(GRID)) for r in range(GRID))
        done = (Action(stored[-1], t("mj.region.done", ctx.lang), style="primary",
                       who="requester"),)
        return CommandReply(t("mj.region.pick", ctx.lang, count=len(cells)),
                            actions=(*rows, done))

    async def toggle(self, ctx: ActionContext) -> ActionOutcome:
        modal = await self._modal(str(ctx.payload["modal_id"]))
        cells = set(modal.properties.get("cells") or ())
        cells ^= {int(ctx.payload["cell"])}
        modal.properties["cells"] = sorted(cells)
        await self.mj.repo.update([modal])
        return ActionOutcome(reply=await self._board(ctx, modal), replace=True)

    async def done(self, ctx: ActionContext) -> ActionOutcome:
        modal = await self._modal(str(ctx.payload["modal_id"]))
        if not modal.properties.get("cells"):
            return ActionOutcome(notice=t("mj.region.none", ctx.lang), alert=True)
        return ActionOutcome(prompt=await self._prompt_request(ctx.chat, ctx.actor, modal,
                                                               ctx.lang))

    async def submit_prompt(self, action_id: str, text: str, chat: ChatRef, actor: Actor,
                            mask: bytes | None = None) -> CommandReply:
        """Send a modal's prompt (and Vary Region mask) → ``/mj/submit/modal``; the reply's
        ticket follows the task. Raises ``UserInputError`` for an unknown/expired/foreign
        action id, an empty prompt, Custom Zoom without ``--zoom`` 1-2, a bad mask."""
        stored = await self.mj.core.actions.resolve(action_id, chat, actor)
        modal = await self._modal(str(stored.payload.get("modal_id")))
        lang = await self.mj.core.language_for(chat, actor)
        prompt, flag_speed = take_speed(restore_flags(text))
        if not prompt:
            raise UserInputError("mj.prompt_empty")
        kind = modal.properties.get("kind")
        zoom = _ZOOM.search(prompt)
        if kind == "zoom" and not (zoom and 1.0 <= float(zoom.group(1)) <= 2.0):
            raise UserInputError("mj.zoom_needed")
        width = int(modal.properties.get("width") or 1024)
        height = int(modal.properties.get("height") or 1024)
        mask_url = None
        if mask is not None:
            mask_url = data_url(mask_from_image(mask, width, height), "image/png")
        elif kind == "region" and not modal.properties.get("cells"):
            raise UserInputError("mj.region.need_mask")
        elif kind == "region":
            mask_url = data_url(mask_from_cells(modal.properties.get("cells") or (), width,
                                                height), "image/png")
        speed = flag_speed or modal.speed
        row = MjTaskRow(**{**modal.values(), "action": "MODAL", "prompt": prompt,
                           "lang": lang, "status": "SUBMITTED", "speed": speed,
                           "properties": {"botType": modal.properties.get("botType", "")}})
        job = Job("mj_modal", lambda: self.mj.client.modal(modal.id, prompt, mask=mask_url,
                                                           speed=_speed(speed)), row)
        ticket = await self.mj.start_job(job, chat, actor)
        await self.mj.core.actions.forget(action_id)
        return CommandReply(t("mj.started", lang, prompt=prompt.replace("`", "'")),
                            ticket=ticket)

    async def imagine(self, ctx: ActionContext) -> ActionOutcome:
        """Imagine a described/shortened prompt (a plain imagine, number stripped)."""
        prompt = str(ctx.payload["prompt"])
        bot = str(ctx.payload.get("bot_type") or "MID_JOURNEY")
        speed = str(ctx.payload.get("speed") or "")
        row = self._row(ctx, "IMAGINE", prompt, speed, None)
        row.properties["botType"] = bot
        job = Job("mj_imagine", lambda: self.mj.client.imagine(prompt, bot_type=bot,
                                                                speed=_speed(speed)), row)
        ticket = await self.mj.start_job(job, ctx.chat, ctx.actor)
        return ActionOutcome(notice=t("mj.action_started", ctx.lang, action="Imagine"),
                             ticket=ticket)

    async def seed(self, ctx: ActionContext) -> ActionOutcome:
        task_id = str(ctx.payload["task_id"])
        seed = await self.mj.client.image_seed(task_id)
        return ActionOutcome(reply=CommandReply(t("mj.seed", ctx.lang, task=task_id,
                                                  seed=seed)))


def _action_of(custom_id: str) -> str:
    """The proxy action a customId starts (for the stored row)."""
    lowered = custom_id.lower()
    for marker, action in (("upsample", "UPSCALE"), ("low_variation", "LOW_VARIATION"),
                           ("high_variation", "HIGH_VARIATION"), ("variation", "VARIATION"),
                           ("reroll", "REROLL"), ("pan_", "PAN"), ("outpaint", "ZOOM"),
                           ("customzoom", "CUSTOM_ZOOM"), ("inpaint", "INPAINT")):
        if marker in lowered:
            return action
    return "ACTION"


def _speed(value: str) -> Speed | None:
    return value if value in SPEEDS else None  # type: ignore[return-value]
