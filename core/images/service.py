"""``ImageService``: ``/image``, ``/edit``, ``/vary`` as jobs, their buttons, the tool.

A command checks everything (model rules, the photo) BEFORE any gateway call — a bad
combination is an error reply and no request — then answers
``CommandReply("", ticket=...)``: a job ticket that shows
``PartShown(ProgressPart(ref="job"))``, then ``PartUpdated(PartUpdate("job",
MediaPart(images, actions)))`` and ``TurnFinal(turn_id=<job id>, model, text="")``, or
``TurnFailed(key, params)`` / ``TurnCancelled``. Every gateway call runs inside
``core.metering`` (``CallInfo("image", model, …, estimate=n, unit="images")``, one
ledger row per call, priced per image from the catalog).

Results are bytes (URL results are downloaded by the gateway client; a signed gateway
URL never reaches the chat). Each image is kept under ``DATA_DIR/images`` (see
``files``) and the buttons' action payloads carry the parameters and image ids:
🔁 ``image.again`` (same request again), ✏️ ``image.edit`` (pick this image for the
next ``/edit``), 🔀 ``image.vary`` (variations of it). Buttons never expire; who may
press them is the chat setting ``image_buttons`` (requester by default, or anyone);
the presser is the one metered. Every job first takes a slot of
``core.image_jobs`` (daily allowance, fair per-chat queue: while it waits, the progress
part shows "queued: position N", updated in place); the result replies to the request
and mentions the requester in groups.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from core.actions import ActionContext, ActionOutcome
from core.commands.handlers import CommandContext
from core.commands.replies import CommandReply
from core.conversation.keys import Actor, ChatRef
from core.conversation.tickets import TurnTicket
from core.errors import ChatbridgeError, UserInputError
from core.events import PartShown, PartUpdated, TurnCancelled, TurnFailed, TurnFinal
from core.gateway.images import GeneratedImage, ImageRequest
from core.i18n import t
from core.image_jobs import not_started_progress, report_position
from core.images.files import ImageFiles
from core.images.options import image_aliases, image_bytes, split_trailing
from core.images.prepare import png_side, square_png
from core.images.validation import DEFAULT_IMAGE_MODEL, EDIT_MODEL, ImageParams, validate
from core.metering import CallInfo, Meter
from core.parts import Action, Media, MediaPart, PartUpdate, Progress, ProgressPart

if TYPE_CHECKING:
    from core.app import ChatCore

log = logging.getLogger(__name__)

JOB_REF = "job"
Mode = str  # "generate" | "edit" | "vary"


class ImageService:
    """Image commands, buttons and the ``generate_image`` tool of one ``ChatCore``."""

    def __init__(self, core: ChatCore) -> None:
        self._core = core
        self.files = ImageFiles(core.settings.data_dir / "images")
        self._jobs: set[asyncio.Task[None]] = set()
        self._queued: dict[asyncio.Task[None], tuple[str, TurnTicket]] = {}  # not started

    def install(self) -> None:
        """Register the button kinds on the core (``ChatCore`` registers ``command`` for
        ``image``, ``edit`` and ``vary``)."""
        who = self._core.images_button_who  # the chat setting, read at press time
        self._core.actions.register("image.again", self._on_again, who=who)
        self._core.actions.register("image.edit", self._on_edit, who=who)
        self._core.actions.register("image.vary", self._on_vary, who=who)
        self._core.outbox.on_detach(self._not_started)

    def _not_started(self, platform: str) -> None:
        """``platform``'s adapter stops: its jobs still waiting for their turn end now
        ("⏹ Not started…"); cancelling them gives the reserved allowance back."""
        for job, (where, ticket) in list(self._queued.items()):
            if where == platform:
                ticket.emit(PartUpdated(PartUpdate(JOB_REF, not_started_progress(JOB_REF))))
                ticket.emit(TurnFinal(turn_id="", model="", text=""))
                job.cancel()

    async def close(self) -> None:
        """Cancel running jobs (their tickets end with ``TurnCancelled``)."""
        for job in list(self._jobs):
            job.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)

    # --- commands ------------------------------------------------------------------------
    async def command(self, name: str, values: Mapping[str, Any],
                      ctx: CommandContext) -> CommandReply:
        """Run ``/image``, ``/edit`` or ``/vary``; raises ``UserInputError`` for bad
        input (shown as an error reply by ``ChatCore.run_command``)."""
        if name == "image":
            params = await self.image_params(values, ctx.chat, ctx.actor)
            ticket = self.start(ctx.lang, ctx.chat, ctx.actor, "generate", params)
        else:
            edit = name == "edit"
            params = validate(EDIT_MODEL, str(values.get("prompt", "")) if edit else "",
                              size=values.get("size"), n=values.get("n"),
                              need_prompt=edit, edit=True)
            source = image_bytes(values.get("image"))
            if source is None:
                picked = await self.files.edit_source(ctx.chat, ctx.actor)
                if picked is None:
                    raise UserInputError("image.need_photo", command=name)
                source = await self.files.load(picked)
            mask = image_bytes(values.get("mask")) if edit else None
            params, image, mask_png = await self._prepare(params, source, mask)
            source_id = await self.files.save(image)
            mask_id = await self.files.save(mask_png) if mask_png is not None else None
            ticket = self.start(ctx.lang, ctx.chat, ctx.actor, "edit" if edit else "vary",
                                params, source_id, mask_id)
        return CommandReply("", ticket=ticket)

    async def image_params(self, values: Mapping[str, Any], chat: ChatRef, actor: Actor,
                           *, words: bool = True) -> ImageParams:
        """Checked ``/image`` parameters (model: the option, a trailing model word, or the
        chat's ``image_model`` setting); ``words``: take trailing option words of the
        prompt (see ``options.split_trailing``)."""
        found: dict[str, Any] = {}
        prompt = str(values.get("prompt", ""))
        if words:
            prompt, found = split_trailing(prompt, image_aliases(self._core.catalog.get))
        merged = {**found, **{k: v for k, v in values.items() if k != "prompt"}}
        model = merged.get("model") or await self.default_model(chat, actor)
        return validate(self.model_name(str(model)), prompt, size=merged.get("size"),
                        n=merged.get("n"), quality=merged.get("quality"),
                        style=merged.get("style"))

    async def default_model(self, chat: ChatRef, actor: Actor) -> str:
        """The chat's ``image_model`` setting (``DEFAULT_IMAGE_MODEL`` when unset)."""
        effective = await self._core.settings_service.resolve(chat, actor)
        value = effective.values.get("image_model")
        return str(value.value) if value is not None and value.value else DEFAULT_IMAGE_MODEL

    def model_name(self, name: str) -> str:
        """The catalog name of ``name`` (aliases resolved: ``dalle`` → ``dall-e-3``)."""
        info = self._core.catalog.get(name)
        return info.name if info is not None else name

    async def _prepare(self, params: ImageParams, source: bytes, mask: bytes | None
                       ) -> tuple[ImageParams, bytes, bytes | None]:
        side = int(params.size.split("x")[0])
        image = await asyncio.to_thread(square_png, source, side)
        actual = png_side(image)
        mask_png = None if mask is None else await asyncio.to_thread(square_png, mask, actual)
        if actual != side:  # a photo too large as a 1024 px PNG: sent at 512 px
            params = dataclasses.replace(params, size=f"{actual}x{actual}")
        return params, image, mask_png

    # --- jobs ----------------------------------------------------------------------------
    def start(self, lang: str, chat: ChatRef, actor: Actor, mode: Mode,
              params: ImageParams, source_id: str | None = None,
              mask_id: str | None = None) -> TurnTicket:
        """Start a job; its ticket (progress part first, see the module docstring)."""
        job_id = uuid.uuid4().hex
        job: asyncio.Task[None] | None = None

        def cancel(_ticket: TurnTicket) -> None:
            if job is not None:
                job.cancel()

        ticket = TurnTicket(lang, cancel)
        ticket.emit(PartShown(ProgressPart(
            Progress(f"image.progress_{mode}", {"model": params.model, "n": params.n}),
            ref=JOB_REF)))
        job = asyncio.create_task(self._run(ticket, job_id, chat, actor, mode, params,
                                            source_id, mask_id))
        self._jobs.add(job)
        self._queued[job] = (chat.platform, ticket)
        job.add_done_callback(self._jobs.discard)
        job.add_done_callback(lambda done: self._queued.pop(done, None))
        return ticket

    async def _run(self, ticket: TurnTicket, job_id: str, chat: ChatRef, actor: Actor,
                   mode: Mode, params: ImageParams, source_id: str | None,
                   mask_id: str | None) -> None:
        progress = ProgressPart(
            Progress(f"image.progress_{mode}", {"model": params.model, "n": params.n}),
            ref=JOB_REF)
        try:
            async with self._core.image_jobs.slot(
                    chat, actor, "image", units=params.n,
                    on_position=report_position(ticket, JOB_REF)) as slot:
                self._queued.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
                if slot.waited_positions:  # "queued: position N" becomes the progress again
                    ticket.emit(PartUpdated(PartUpdate(JOB_REF, progress)))
                images = await self.call(chat, actor, mode, params, source_id, mask_id)
            part = await self._result(ticket.language, chat, actor, mode, params, images,
                                      source_id, mask_id)
            ticket.emit(PartUpdated(PartUpdate(JOB_REF, part)))
            ticket.emit(TurnFinal(turn_id=job_id, model=params.model, text=""))
        except asyncio.CancelledError:
            ticket.emit(TurnCancelled())
        except ChatbridgeError as exc:
            ticket.emit(TurnFailed(exc.key, {"model": params.model, **exc.params}))
        except Exception:
            log.exception("image job %s failed", job_id)
            ticket.emit(TurnFailed("error.internal", {}))

    async def call(self, chat: ChatRef, actor: Actor, mode: Mode, params: ImageParams,
                   source_id: str | None = None, mask_id: str | None = None,
                   turn_id: str = "") -> list[GeneratedImage]:
        """One metered gateway call (the images as bytes); typed errors propagate."""
        request = ImageRequest(params.model, params.prompt, params.n, params.size,
                               params.quality, params.style)
        gateway = self._core.gateway
        source = await self.files.load(source_id) if source_id else b""
        mask = await self.files.load(mask_id) if mask_id else None
        calls: dict[Mode, Callable[[], Awaitable[list[GeneratedImage]]]] = {
            "generate": lambda: gateway.generate_images(request),
            "edit": lambda: gateway.edit_image(request, source, mask),
            "vary": lambda: gateway.variation_image(request, source),
        }

        async def body(meter: Meter) -> list[GeneratedImage]:
            images = await calls[mode]()
            meter.count(len(images), "images")
            return images

        info = CallInfo("image", params.model, chat, actor, turn_id=turn_id,
                        estimate=params.n, unit="images")
        return await self._core.metering.run(info, body)

    async def _result(self, lang: str, chat: ChatRef, actor: Actor, mode: Mode,
                      params: ImageParams, images: list[GeneratedImage],
                      source_id: str | None, mask_id: str | None) -> MediaPart:
        ids = [await self.files.save(image.data) for image in images]
        caption = images[0].revised_prompt or params.prompt
        media = tuple(Media("image", data=image.data, mime=image.mime,
                            filename=f"image{number}.png", caption=caption if number == 1 else "")
                      for number, image in enumerate(images, 1))
        again = {"mode": mode, "params": params.to_payload(), "source": source_id,
                 "mask": mask_id}
        specs: list[tuple[str, dict[str, Any]]] = [("image.again", again)]
        for image_id in ids:
            specs += [("image.edit", {"image": image_id}),
                      ("image.vary", {"image": image_id, "size": _square(params.size)})]
        action_ids = await self._core.actions.create_many(
            specs, chat=chat, owner_id=actor.user_id,
            who=await self._core.images_button_who(chat))

        def label(key: str, number: int) -> str:
            return t(key, lang) + (f" {number}" if len(ids) > 1 else "")

        rows = (
            (Action(action_ids[0], t("image.again", lang), icon="🔁"),),
            tuple(Action(action_ids[1 + 2 * i], label("image.edit", i + 1), icon="✏️")
                  for i in range(len(ids))),
            tuple(Action(action_ids[2 + 2 * i], label("image.vary", i + 1), icon="🔀")
                  for i in range(len(ids))),
        )
        return MediaPart(media=media, actions=rows, reply_to_request=True,
                         mention_requester=not chat.is_private)

    # --- buttons -------------------------------------------------------------------------
    async def _on_again(self, ctx: ActionContext) -> ActionOutcome:
        payload = ctx.payload
        params = ImageParams.from_payload(dict(payload["params"]))
        ticket = self.start(ctx.lang, ctx.chat, ctx.actor, str(payload["mode"]), params,
                            payload.get("source"), payload.get("mask"))
        return ActionOutcome(ticket=ticket)

    async def _on_edit(self, ctx: ActionContext) -> ActionOutcome:
        image_id = str(ctx.payload["image"])
        await self.files.load(image_id)  # still there? (else "image.gone")
        await self.files.set_edit_source(ctx.chat, ctx.actor, image_id)
        return ActionOutcome(notice=t("image.edit_hint", ctx.lang))

    async def _on_vary(self, ctx: ActionContext) -> ActionOutcome:
        image_id = str(ctx.payload["image"])
        params = validate(EDIT_MODEL, "", size=str(ctx.payload.get("size") or "1024x1024"),
                          need_prompt=False, edit=True)
        image = await self.files.load(image_id)
        params, square, _ = await self._prepare(params, image, None)
        source_id = await self.files.save(square)
        return ActionOutcome(ticket=self.start(ctx.lang, ctx.chat, ctx.actor, "vary",
                                               params, source_id))


def _square(size: str) -> str:
    """The dall-e-2 size closest to ``size``'s short side (variations are square)."""
    short = min(int(side) for side in size.split("x"))
    return next((f"{s}x{s}" for s in (1024, 512, 256) if s <= short), "256x256")
