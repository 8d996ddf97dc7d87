"""Midjourney commands: specs (appended to the core registry) and their handlers.

Image arguments: IMAGE params (``image``, ``image2``…, Discord attachments) and/or
``images`` (a sequence, e.g. Telegram photos of the message or album), each an
``ImageInput`` or raw bytes. ``reply_to`` (optional): the platform message id of the
command, so a result posted after a restart replies to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from core.commands.replies import CommandReply
from core.conversation.inputs import ImageInput
from core.errors import ChatbridgeError, UserInputError
from core.i18n import t
from core.midjourney.buttons import restore_flags, take_speed
from core.midjourney.client import Speed
from core.midjourney.images import data_url
from core.midjourney.jobs import Job
from core.midjourney.service import Midjourney
from core.midjourney.specs import SPEEDS
from core.storage.mj_tasks_repo import MjTaskRow
from core.storage.types import ScopeKey

if TYPE_CHECKING:
    from core.commands.handlers import CommandContext

CONSENT_SETTING = "mj_swap_consent"
"""User-scope setting (platform, "", user id) remembering that the consent notice of
``/swap`` was shown."""


def images_of(values: Mapping[str, Any], names: Sequence[str]) -> list[ImageInput]:
    """The images given as named params (in ``names`` order), then ``images``."""
    found: list[Any] = [values[n] for n in names if values.get(n) is not None]
    found += list(values.get("images") or ())
    return [item if isinstance(item, ImageInput) else ImageInput(bytes(item), "")
            for item in found]


def _url(image: ImageInput) -> str:
    return data_url(image.data, image.mime if image.mime.startswith("image/") else "")


class MjCommands:
    """Handlers for ``MJ_COMMANDS`` (``CommandHandlers.add``), replies with a ticket."""

    def __init__(self, mj: Midjourney) -> None:
        self.mj = mj

    def handlers(self) -> dict[str, Any]:
        return {"mj": self.imagine, "blend": self.blend, "describe": self.describe,
                "shorten": self.shorten, "seed": self.seed, "swap": self.swap}

    def _row(self, ctx: CommandContext, action: str, prompt: str, speed: str,
             values: Mapping[str, Any], bot_type: str = "MID_JOURNEY") -> MjTaskRow:
        chat = ctx.chat
        return MjTaskRow(id="", action=action, platform=chat.platform, chat_id=chat.chat_id,
                         thread_id=chat.thread_id, is_private=chat.is_private,
                         requester_id=ctx.actor.user_id, lang=ctx.lang, prompt=prompt,
                         speed=speed, request_message_id=str(values.get("reply_to") or ""),
                         properties={"botType": bot_type})

    async def _run(self, job: Job, ctx: CommandContext, text: str) -> CommandReply:
        try:
            ticket = await self.mj.start_job(job, ctx.chat, ctx.actor)
        except UserInputError:
            raise
        except ChatbridgeError as exc:
            return CommandReply(self.mj.core.error_text(exc, ctx.lang), ephemeral=True,
                                is_error=True)
        return CommandReply(text, ticket=ticket)

    async def imagine(self, values: Mapping[str, Any], ctx: CommandContext) -> CommandReply:
        prompt, flag_speed = take_speed(restore_flags(str(values.get("prompt") or "")))
        if not prompt:
            raise UserInputError("mj.no_prompt")
        speed = str(values.get("speed") or flag_speed)
        bot = "NIJI_JOURNEY" if values.get("niji") else "MID_JOURNEY"
        refs = [_url(i) for i in images_of(values, ("image",))]
        row = self._row(ctx, "IMAGINE", prompt, speed, values, bot)
        job = Job("mj_imagine", lambda: self.mj.client.imagine(
            prompt, bot_type=bot, images=refs, speed=_speed(speed)), row)
        return await self._run(job, ctx, t("mj.started", ctx.lang, prompt=_code(prompt)))

    async def blend(self, values: Mapping[str, Any], ctx: CommandContext) -> CommandReply:
        images = images_of(values, ("image1", "image2", "image3", "image4", "image5"))
        if not 2 <= len(images) <= 5:
            raise UserInputError("mj.blend.count", count=len(images))
        dimensions = str(values.get("dimensions") or "square").upper()
        speed = str(values.get("speed") or "")
        urls = [_url(i) for i in images]
        row = self._row(ctx, "BLEND", "", speed, values)
        job = Job("mj_blend", lambda: self.mj.client.blend(urls, dimensions,
                                                            speed=_speed(speed)), row)
        return await self._run(job, ctx, t("mj.action_started", ctx.lang, action="Blend"))

    async def describe(self, values: Mapping[str, Any], ctx: CommandContext) -> CommandReply:
        images = images_of(values, ("image",))
        if not images:
            raise UserInputError("mj.describe.need_image")
        speed = str(values.get("speed") or "")
        url = _url(images[0])
        row = self._row(ctx, "DESCRIBE", "", speed, values)
        job = Job("mj_describe", lambda: self.mj.client.describe(url, speed=_speed(speed)),
                  row)
        return await self._run(job, ctx, t("mj.action_started", ctx.lang, action="Describe"))

    async def shorten(self, values: Mapping[str, Any], ctx: CommandContext) -> CommandReply:
        prompt = restore_flags(str(values.get("prompt") or ""))
        if not prompt:
            raise UserInputError("mj.prompt_empty")
        row = self._row(ctx, "SHORTEN", prompt, "", values)
        job = Job("mj_shorten", lambda: self.mj.client.shorten(prompt), row)
        return await self._run(job, ctx, t("mj.action_started", ctx.lang, action="Shorten"))

    async def seed(self, values: Mapping[str, Any], ctx: CommandContext) -> CommandReply:
        task_id = str(values.get("task") or "").strip()
        if not task_id:
            raise UserInputError("mj.seed.need_task")
        try:
            seed = await self.mj.client.image_seed(task_id)
        except ChatbridgeError as exc:
            return CommandReply(self.mj.core.error_text(exc, ctx.lang), ephemeral=True,
                                is_error=True)
        return CommandReply(t("mj.seed", ctx.lang, task=task_id, seed=seed))

    async def swap(self, values: Mapping[str, Any], ctx: CommandContext) -> CommandReply:
        images = images_of(values, ("face", "target"))
        if len(images) != 2:
            raise UserInputError("mj.swap.need_images")
        face, target = _url(images[0]), _url(images[1])
        row = self._row(ctx, "SWAP_FACE", "", "", values)
        job = Job("swap_face", lambda: self.mj.client.swap_face(face, target), row)
        reply = await self._run(job, ctx, t("mj.action_started", ctx.lang, action="Face swap"))
        if reply.ticket is not None and await self._first_swap(ctx):
            reply = CommandReply(f"{t('mj.swap.consent', ctx.lang)}\n{reply.text}",
                                 ticket=reply.ticket)
        return reply

    async def _first_swap(self, ctx: CommandContext) -> bool:
        """True the first time this user swaps a face (remembered in settings)."""
        scope = ScopeKey(ctx.chat.platform, "", ctx.actor.user_id)
        store = self.mj.core.store
        if (await store.get_settings([scope]))[scope].get(CONSENT_SETTING):
            return False
        await store.set_setting(scope, CONSENT_SETTING, True)
        return True


def _speed(value: str) -> Speed | None:
    return value if value in SPEEDS else None  # type: ignore[return-value]


def _code(text: str) -> str:
    return text.replace("`", "'")[:900]
