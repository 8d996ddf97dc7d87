"""The Midjourney commands' neutral specs (appended to ``core.commands.registry``)."""

from __future__ import annotations

from core.commands.spec import CommandSpec, ParamKind, ParamSpec

SPEEDS: tuple[str, ...] = ("fast", "relax", "turbo")
_SPEED = ParamSpec("speed", ParamKind.STRING, {"en": "fast, relax or turbo",
                                               "zh": "fast、relax 或 turbo"}, choices=SPEEDS)


def _image(name: str, en: str, zh: str, required: bool = False) -> ParamSpec:
    return ParamSpec(name, ParamKind.IMAGE, {"en": en, "zh": zh}, required=required)


MJ_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("mj", {"en": "Draw with Midjourney", "zh": "用 Midjourney 画图"}, params=(
        ParamSpec("prompt", ParamKind.STRING, {"en": "What to draw (--ar 16:9 etc.)",
                                               "zh": "要画的内容(可加 --ar 16:9 等)"},
                  required=True, rest=True),
        ParamSpec("niji", ParamKind.BOOLEAN, {"en": "Use the Niji (anime) bot",
                                              "zh": "使用 Niji(动漫)模型"}),
        _SPEED, _image("image", "A reference image", "参考图片"))),
    CommandSpec("blend", {"en": "Blend 2-5 images with Midjourney",
                          "zh": "用 Midjourney 混合 2-5 张图片"}, params=(
        ParamSpec("dimensions", ParamKind.STRING, {"en": "portrait, square or landscape",
                                                   "zh": "portrait、square 或 landscape"},
                  choices=("portrait", "square", "landscape")),
        _SPEED, _image("image1", "First image", "第一张图片"),
        _image("image2", "Second image", "第二张图片"), _image("image3", "Image 3", "图片 3"),
        _image("image4", "Image 4", "图片 4"), _image("image5", "Image 5", "图片 5"))),
    CommandSpec("describe", {"en": "Prompts Midjourney sees in an image",
                             "zh": "让 Midjourney 描述图片"},
                params=(_image("image", "The image", "图片"), _SPEED)),
    CommandSpec("shorten", {"en": "Shorten a Midjourney prompt", "zh": "精简 Midjourney 提示词"},
                params=(ParamSpec("prompt", ParamKind.STRING, {"en": "The prompt",
                                                               "zh": "提示词"},
                                  required=True, rest=True),)),
    CommandSpec("seed", {"en": "The seed of a Midjourney result",
                         "zh": "查看 Midjourney 结果的种子"},
                params=(ParamSpec("task", ParamKind.STRING, {"en": "Task id", "zh": "任务 ID"},
                                  required=True),)),
    CommandSpec("swap", {"en": "Swap a face into a picture", "zh": "换脸"}, params=(
        _image("face", "The face", "人脸"), _image("target", "The picture", "目标图片"))),
)
