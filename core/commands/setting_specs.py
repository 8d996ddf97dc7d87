"""The one table of settings ``/settings`` shows and changes.

Both the listing and the parser read ``SETTINGS``: the ``/settings`` ``name`` choices
are ``SETTABLE``, every listed line says how to change it (``/settings <name> …`` or
the command that owns it, e.g. ``/model``), and a setting without a parser is never
offered as settable. ``tests/core/commands/test_setting_specs.py`` checks the table
covers every configured setting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.conversation.settings import IMAGE_BUTTONS, IMAGE_LIMIT_SETTINGS
from core.errors import UserInputError
from core.i18n import SUPPORTED_LANGUAGES, normalize_language
from core.images.validation import RULES, normalize_size, rules_for

MAX_IMAGE_LIMIT = 100_000
"""Largest value of an image limit setting (an upper bound against typos, assumed)."""
ALL_TOOLS = "all"
NO_TOOLS = "none"


@dataclass(frozen=True, slots=True)
class SettingEnv:
    """What parsing a value needs: the registered tool names, the image model name of
    an alias (``cogview`` → ``cogview-3``), and the image model in effect (for sizes)."""

    tool_names: Sequence[str]
    image_model_name: Callable[[str], str]
    image_model: str


Parser = Callable[[str, SettingEnv], Any]
"""``(value as typed, env) -> value to store``; raises ``UserInputError``."""
Hint = Callable[[SettingEnv], str]
"""The accepted values, as shown by ``/settings <name>``."""


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One setting: ``parse`` set → changed by ``/settings``; ``command`` set → changed
    by that command (``/model``); neither → read-only. ``private``: shown in private
    chats; ``owner_in_private``: in a private chat only bot owners change it."""

    name: str
    parse: Parser | None = None
    hint: Hint | None = None
    command: str | None = None
    private: bool = True
    owner_in_private: bool = False

    @property
    def settable(self) -> bool:
        """Whether ``/settings <name> <value>`` changes it."""
        return self.parse is not None


def _temperature(value: str, env: SettingEnv) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 2.0:  # OpenAI chat completions: temperature 0-2
        raise UserInputError("error.bad_number", param="temperature", min=0, max=2)
    return number


def _language(value: str, env: SettingEnv) -> str:
    code = normalize_language(value.strip(), default="")
    if code not in SUPPORTED_LANGUAGES:
        raise UserInputError("error.bad_choice", param="language",
                             choices=", ".join(SUPPORTED_LANGUAGES))
    return code


def _limit(name: str) -> Parser:
    def parse(value: str, env: SettingEnv) -> int:
        try:
            number = int(value.strip())
        except ValueError:
            number = -1
        if not 0 <= number <= MAX_IMAGE_LIMIT:
            raise UserInputError("error.bad_whole_number", param=name, min=0,
                                 max=MAX_IMAGE_LIMIT)
        return number
    return parse


def _image_buttons(value: str, env: SettingEnv) -> str:
    if value.lower() not in IMAGE_BUTTONS:
        raise UserInputError("error.bad_choice", param="image_buttons",
                             choices=", ".join(IMAGE_BUTTONS))
    return value.lower()


def _tools(value: str, env: SettingEnv) -> list[str] | None:
    """``all`` → None (every registered tool), ``none`` → [], else known names."""
    lowered = value.strip().lower()
    if lowered == ALL_TOOLS:
        return None
    if lowered == NO_TOOLS:
        return []
    names = list(dict.fromkeys(n.strip() for n in value.replace(" ", ",").split(",")
                               if n.strip()))
    unknown = [name for name in names if name not in env.tool_names]
    if unknown or not names:
        raise UserInputError("error.unknown_tools", names=", ".join(unknown) or value,
                             tools=", ".join(env.tool_names) or "—")
    return names


def _image_model(value: str, env: SettingEnv) -> str:
    return rules_for(env.image_model_name(value.strip().lower())).name


def _image_size(value: str, env: SettingEnv) -> str:
    size = normalize_size(value) or value
    rules = rules_for(env.image_model)
    if size not in rules.sizes:
        raise UserInputError("image.bad_size", model=rules.name, size=size,
                             sizes=", ".join(rules.sizes))
    return size


def _tools_hint(env: SettingEnv) -> str:
    return ", ".join((ALL_TOOLS, NO_TOOLS, *env.tool_names))


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("model", command="model"),
    SettingSpec("persona", command="persona"),
    SettingSpec("temperature", _temperature, lambda env: "0–2"),
    SettingSpec("language", _language, lambda env: ", ".join(SUPPORTED_LANGUAGES)),
    SettingSpec("reply_mode", command="mode", private=False),
    SettingSpec("context_mode", command="mode", private=False),
    SettingSpec("tools", _tools, _tools_hint),
    SettingSpec("image_model", _image_model, lambda env: ", ".join(RULES)),
    SettingSpec("image_size", _image_size,
                lambda env: f"{env.image_model}: " + ", ".join(rules_for(env.image_model).sizes)),
    *(SettingSpec(name, _limit(name), lambda env: f"0–{MAX_IMAGE_LIMIT}",
                  owner_in_private=True) for name in IMAGE_LIMIT_SETTINGS),
    SettingSpec("image_buttons", _image_buttons, lambda env: ", ".join(IMAGE_BUTTONS),
                private=False),
)
SETTING_SPECS: dict[str, SettingSpec] = {spec.name: spec for spec in SETTINGS}
SETTABLE: tuple[str, ...] = tuple(spec.name for spec in SETTINGS if spec.settable)
"""The names ``/settings <name> <value>`` accepts (its ``name`` choices)."""


def show_value(name: str, value: Any) -> str:
    """A setting's value as listed: the ``tools`` list as ``all``/``none``/names."""
    if name == "tools":
        if value is None:
            return ALL_TOOLS
        names = [value] if isinstance(value, str) else list(value)
        return ", ".join(map(str, names)) or NO_TOOLS
    if value in (None, ""):
        return "—"
    if name == "persona" and isinstance(value, str) and len(value) > 60:
        return value[:57] + "…"
    return str(value)
