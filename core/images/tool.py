"""The built-in ``generate_image`` tool: a chat model draws mid-conversation.

Uses the chat's image settings (``image_model``, default ``dall-e-3``; ``image_size``
when set) for the requester of the turn (``core.tools.context``), metered like
``/image`` with the turn's id. The image reaches the chat as
``PartShown(MediaPart(...))``; the model gets ``"image generated: <revised prompt>"``.
Bad arguments and gateway errors come back to the model as ``"error: …"`` text (in
English), so it can tell the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.errors import ChatbridgeError
from core.parts import Media
from core.tools import Tool, ToolResult
from core.tools.context import current_tool_context

if TYPE_CHECKING:
    from core.app import ChatCore
    from core.images.service import ImageService

TOOL_NAME = "generate_image"
PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "prompt": {"type": "string",
                   "description": "A detailed description of the image to draw."},
        "size": {"type": "string",
                 "description": "Optional WxH size, e.g. 1024x1024 or 1792x1024."},
    },
    "required": ["prompt"],
}


def image_tool(core: ChatCore, service: ImageService) -> Tool:
    """The ``generate_image`` tool bound to ``core``'s image service."""

    async def generate(args: dict[str, Any]) -> ToolResult:
        context = current_tool_context()
        if context is None:
            return ToolResult("error: generate_image only runs inside a chat turn")
        effective = await core.settings_service.resolve(context.chat, context.actor)
        size = args.get("size") or effective.values.get("image_size")
        values = {"prompt": str(args.get("prompt") or ""),
                  "size": getattr(size, "value", size) or None}
        try:
            params = await service.image_params(values, context.chat, context.actor,
                                                  words=False)
            async with core.image_jobs.slot(context.chat, context.actor, "image",
                                            units=params.n):  # allowance + fair queue
                images = await service.call(context.chat, context.actor, "generate",
                                            params, turn_id=context.turn_id)
        except ChatbridgeError as exc:
            return ToolResult("error: " + core.error_text(exc, "en"))
        revised = images[0].revised_prompt or params.prompt
        media = tuple(Media("image", data=image.data, mime=image.mime,
                            filename=f"image{number}.png", caption=revised if number == 1 else "")
                      for number, image in enumerate(images, 1))
        return ToolResult(f"image generated: {revised}", media=media)

    return Tool(TOOL_NAME, "Generate an image from a text description and show it in the "
                "chat. Use it when the user asks to draw, paint or create a picture.",
                PARAMETERS, generate)
