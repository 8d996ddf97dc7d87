"""The core's command set, declared once for every platform."""

from __future__ import annotations

from core.commands.setting_specs import SETTABLE
from core.commands.spec import CommandSpec, ParamKind, ParamSpec, Permission
from core.images.specs import IMAGE_COMMANDS
from core.midjourney.specs import MJ_COMMANDS

_PROMPT = ParamSpec(
    "prompt",
    ParamKind.STRING,
    {"en": "What to ask the model", "zh": "要问模型的内容"},
    required=True,
    rest=True,
)
_MODEL_OPTIONAL = ParamSpec(
    "model",
    ParamKind.STRING,
    {"en": "Model for this question only", "zh": "仅本次使用的模型"},
    autocomplete="models",
)
_IMAGE = ParamSpec("image", ParamKind.IMAGE, {"en": "An image to ask about", "zh": "要提问的图片"})
_SCOPE = ParamSpec(
    "scope",
    ParamKind.STRING,
    {"en": "Where it applies: me (default) or chat", "zh": "作用范围:me(默认)或 chat"},
    choices=("me", "chat"),
)

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", {"en": "Start and show what I can do", "zh": "开始使用并查看功能"},
                platforms=("telegram",), groups=False),
    CommandSpec("help", {"en": "Show help", "zh": "查看帮助"}),
    CommandSpec(
        "ask",
        {"en": "Ask the model", "zh": "向模型提问"},
        params=(_PROMPT, _MODEL_OPTIONAL, _IMAGE),
        platform_names={"discord": "chat"},
    ),
    CommandSpec("new", {"en": "Start a new conversation", "zh": "开始新对话"}),
    CommandSpec(
        "model",
        {"en": "Show or switch the model", "zh": "查看或切换模型"},
        params=(
            ParamSpec("name", ParamKind.STRING, {"en": "Model name", "zh": "模型名称"},
                      autocomplete="models"),
            _SCOPE,
        ),
    ),
    CommandSpec("models", {"en": "List available models", "zh": "列出可用模型"}),
    CommandSpec(
        "persona",
        {"en": "Show, set or reset the system prompt", "zh": "查看、设置或重置系统提示词"},
        params=(
            ParamSpec("text", ParamKind.STRING,
                      {"en": "New system prompt, or 'reset'", "zh": "新的系统提示词,或 reset"},
                      rest=True),
            _SCOPE,
        ),
    ),
    CommandSpec(
        "settings",
        {"en": "Show or change settings", "zh": "查看或修改设置"},
        params=(
            ParamSpec("name", ParamKind.STRING, {"en": "Setting name", "zh": "设置项"},
                      choices=SETTABLE),
            ParamSpec("value", ParamKind.STRING, {"en": "New value, or 'reset'",
                                                  "zh": "新值,或 reset"}, rest=True),
            _SCOPE,
        ),
    ),
    CommandSpec(
        "mode",
        {"en": "Group mode: when to answer, shared or per-user context",
         "zh": "群组模式:何时回复、共享或独立上下文"},
        params=(
            ParamSpec("reply", ParamKind.STRING,
                      {"en": "mention, all or command", "zh": "mention、all 或 command"},
                      choices=("mention", "all", "command")),
            ParamSpec("context", ParamKind.STRING,
                      {"en": "shared or per_user", "zh": "shared 或 per_user"},
                      choices=("shared", "per_user")),
        ),
        permission=Permission.CHAT_ADMIN,
        private=False,
    ),
    CommandSpec("cancel", {"en": "Stop the current answer", "zh": "停止当前回答"}),
    *IMAGE_COMMANDS,
    *MJ_COMMANDS,
)

COMMANDS_BY_NAME: dict[str, CommandSpec] = {spec.name: spec for spec in COMMANDS}


def find_command(name: str, platform: str = "") -> CommandSpec | None:
    """Look a command up by its core name or by its name on ``platform``."""
    spec = COMMANDS_BY_NAME.get(name)
    if spec is not None:
        return spec
    for candidate in COMMANDS:
        if platform and candidate.name_on(platform) == name:
            return candidate
    return None
