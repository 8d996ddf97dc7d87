"""Plain-text command parsing: ``/model@bot gpt-4 chat`` → spec + typed arguments."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from core.commands.registry import find_command
from core.commands.spec import CommandSpec, ParamKind, ParamSpec
from core.errors import UserInputError

SCOPE_WORDS = ("me", "chat")
"""Values of a ``scope`` param; also read as a bare trailing word (``take_scope``)."""
RESET_WORDS = frozenset({"reset", "default", "clear", "重置"})
"""Values that reset a setting (``/persona reset``, ``/settings temperature reset``)."""
_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    """A recognised command line; ``spec`` is None for an unknown command name."""

    name: str
    spec: CommandSpec | None
    args: dict[str, Any] = field(default_factory=dict)
    raw_args: str = ""


def split_command(text: str, bot_username: str = "") -> tuple[str, str] | None:
    """``("model", "gpt-4")`` for ``/model@bot gpt-4``; None if not a command for us."""
    stripped = text.lstrip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, rest = stripped[1:].partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = more + (" " + rest if rest else "")
    name, _, target = head.partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    if not name or not all(ch.isalnum() or ch == "_" for ch in name):
        return None
    return name.lower(), rest.strip()


def parse_command(text: str, platform: str = "", bot_username: str = "") -> ParsedCommand | None:
    """Parse a command line into typed arguments; raises UserInputError on bad args."""
    split = split_command(text, bot_username)
    if split is None:
        return None
    name, raw_args = split
    spec = find_command(name, platform)
    if spec is None:
        return ParsedCommand(name=name, spec=None, raw_args=raw_args)
    return ParsedCommand(name=name, spec=spec, args=parse_args(spec, raw_args),
                         raw_args=raw_args)


def parse_args(spec: CommandSpec, raw: str) -> dict[str, Any]:
    """Assign words to the spec's params: ``name:value`` (or ``name value`` for a param
    with choices) first, the scope (``take_scope``), then positionally; a ``rest`` param
    takes the remaining words."""
    params = [p for p in spec.params if p.kind is not ParamKind.IMAGE]
    by_name = {p.name: p for p in params}
    values: dict[str, Any] = {}
    positional: list[str] = []
    rest_param = next((p for p in params if p.rest), None)
    if rest_param is not None and params and params[0] is rest_param:
        return _parse_rest_first(spec, rest_param, by_name, raw)
    words = _words(raw)
    while words:
        word = words.pop(0)
        key, sep, value = word.partition(":") if ":" in word else word.partition("=")
        if sep and key in by_name and value:
            values[key] = convert(spec, by_name[key], value)
        elif (not sep and word.lower() in by_name and by_name[word.lower()].choices
              and words and word.lower() not in values):
            values[word.lower()] = convert(spec, by_name[word.lower()], words.pop(0))
        else:
            positional.append(word)
    if "scope" in by_name and "scope" not in values:
        positional, scope = take_scope(positional, free_text=False)
        if scope is not None:
            values["scope"] = scope
    free = [p for p in params if p.name not in values]
    for index, word in enumerate(positional):
        if index >= len(free):
            raise UserInputError("error.command_args", name=spec.name, detail=word)
        if free[index].rest:
            values[free[index].name] = convert(spec, free[index], " ".join(positional[index:]))
            break
        values[free[index].name] = convert(spec, free[index], word)
    return values


def take_scope(words: list[str], *, free_text: bool) -> tuple[list[str], str | None]:
    """The one scope rule of every command with a ``scope`` param (besides
    ``scope:chat``): a bare last word ``me``/``chat`` after other words is the scope —
    for free text (a persona) only after a reset word (``/persona reset chat``), since
    "be a cat chat" may be the text. Returns ``(other words, scope or None)``."""
    if len(words) < 2 or words[-1].lower() not in SCOPE_WORDS:
        return words, None
    if free_text and " ".join(words[:-1]).strip().lower() not in RESET_WORDS:
        return words, None
    return words[:-1], words[-1].lower()


def _parse_rest_first(spec: CommandSpec, rest: ParamSpec, by_name: dict[str, ParamSpec],
                      raw: str) -> dict[str, Any]:
    """For prompt-like commands: ``name:value`` (or ``name=value``) options of the spec
    before and after the free text, which is the rest (``/image n:2 a fox 512x512`` and
    ``/image a fox n:2`` alike); words inside the text are never options."""
    values: dict[str, Any] = {}
    words = raw.strip(" ").split(" ")  # inner spacing of the text is kept

    def take(word: str) -> bool:
        key, sep, value = word.partition(":") if ":" in word else word.partition("=")
        if not (sep and key in by_name and key != rest.name and value):
            return False
        values.setdefault(key, convert(spec, by_name[key], value))
        return True

    while words and (not words[-1] or take(words[-1])):  # the last occurrence wins
        words.pop()
    while words and (not words[0] or take(words[0])):
        words.pop(0)
    if "scope" in by_name and "scope" not in values:
        kept, scope = take_scope([w for w in words if w], free_text=True)
        if scope is not None:
            values["scope"], words = scope, kept
    text = " ".join(words).strip()
    if text:
        values[rest.name] = text
    return values


def _words(raw: str) -> list[str]:
    try:
        return shlex.split(raw)
    except ValueError:
        return raw.split()


def convert(spec: CommandSpec, param: ParamSpec, value: Any) -> Any:
    """Convert and validate one argument value for ``param``."""
    if param.kind is ParamKind.INTEGER or param.kind is ParamKind.NUMBER:
        try:
            number: float = int(value) if param.kind is ParamKind.INTEGER else float(value)
        except (TypeError, ValueError):
            raise UserInputError("error.command_args", name=spec.name,
                                 detail=f"{param.name}={value}") from None
        if ((param.min_value is not None and number < param.min_value)
                or (param.max_value is not None and number > param.max_value)):
            raise UserInputError("error.bad_number", param=param.name,
                                 min=param.min_value, max=param.max_value)
        return number
    if param.kind is ParamKind.BOOLEAN:
        lowered = str(value).lower()
        if lowered not in _TRUE | _FALSE:
            raise UserInputError("error.command_args", name=spec.name,
                                 detail=f"{param.name}={value}")
        return lowered in _TRUE
    text = str(value).strip()
    if param.choices and text.lower() not in param.choices:
        raise UserInputError("error.bad_choice", param=param.name,
                             choices=", ".join(param.choices))
    return text.lower() if param.choices else text
