"""Command specs of ``/image``, ``/edit`` and ``/vary`` (appended to ``COMMANDS``).

Adapters pass the photo of ``/edit``/``/vary`` (and an optional ``mask``) in the
command arguments as ``core.conversation.inputs.ImageInput`` (or raw bytes), like the
image of ``/ask``; without one, ``/edit`` edits the image picked with the ✏️ button.
"""

from __future__ import annotations

from core.commands.spec import CommandSpec, ParamKind, ParamSpec

_SIZE = ParamSpec("size", ParamKind.STRING,
                  {"en": "Size WxH, e.g. 1024x1024", "zh": "尺寸 宽x高,如 1024x1024"})
_N = ParamSpec("n", ParamKind.INTEGER, {"en": "How many images", "zh": "生成几张"},
               min_value=1, max_value=10)
_PHOTO = ParamSpec("image", ParamKind.IMAGE, {"en": "The image to use", "zh": "要使用的图片"})

IMAGE_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "image",
        {"en": "Generate images from a prompt", "zh": "根据描述生成图片"},
        params=(
            ParamSpec("prompt", ParamKind.STRING,
                      {"en": "What to draw", "zh": "要画的内容"}, required=True, rest=True),
            ParamSpec("model", ParamKind.STRING,
                      {"en": "dall-e-3, dall-e-2 or cogview-3",
                       "zh": "dall-e-3、dall-e-2 或 cogview-3"}),
            _SIZE,
            ParamSpec("quality", ParamKind.STRING,
                      {"en": "standard or hd (dall-e-3)", "zh": "standard 或 hd(dall-e-3)"},
                      choices=("standard", "hd")),
            ParamSpec("style", ParamKind.STRING,
                      {"en": "vivid or natural (dall-e-3)", "zh": "vivid 或 natural(dall-e-3)"},
                      choices=("vivid", "natural")),
            _N,
        ),
    ),
    CommandSpec(
        "edit",
        {"en": "Edit a photo with a prompt (dall-e-2)", "zh": "按描述编辑图片(dall-e-2)"},
        params=(
            ParamSpec("prompt", ParamKind.STRING,
                      {"en": "What to change", "zh": "要修改的内容"}, required=True, rest=True),
            _PHOTO,
            ParamSpec("mask", ParamKind.IMAGE,
                      {"en": "Optional mask: transparent where to edit",
                       "zh": "可选蒙版:透明处为要编辑的区域"}),
            _SIZE,
            _N,
        ),
    ),
    CommandSpec(
        "vary",
        {"en": "Variations of a photo (dall-e-2)", "zh": "生成图片的变体(dall-e-2)"},
        params=(_PHOTO, _SIZE, _N),
    ),
)
