"""Slash commands generated from the core's ``CommandSpec``s, and their syncing.

Each spec becomes an ``app_commands.Command`` whose callback signature is generated from
the spec's typed params (``ParamKind`` → ``str``/``int``/``float``/``bool``/
``discord.Attachment``), so discord.py validates and converts options itself.
Descriptions are ``locale_str``s carrying the Chinese text in their extras;
``SpecTranslator`` hands it to Discord for the ``zh-CN``/``zh-TW`` locales.

Syncing is expensive and rate limited (200 creates/day), so ``sync_if_changed`` hashes
the exact payload discord.py would upload and only syncs when that hash differs from the
one stored in a small JSON file (``<data_dir>/discord_commands.json``).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import Choice, locale_str

from core.commands.spec import CommandSpec, ParamKind, ParamSpec, Permission

log = logging.getLogger(__name__)

PLATFORM = "discord"
ZH_LOCALES = frozenset({discord.Locale.chinese, discord.Locale.taiwan_chinese})
DESCRIPTION_LIMIT = 100
CHOICE_LIMIT = 25

CommandHandler = Callable[[discord.Interaction, CommandSpec, dict[str, Any]], Awaitable[None]]
"""Called for every slash command: the interaction, its spec and the option values."""

AutocompleteHandler = Callable[[discord.Interaction, str, str], Awaitable[list[Choice[str]]]]
"""Called as ``(interaction, source, current)`` for ``autocomplete="<source>"`` params."""


def language_of(locale: discord.Locale | str | None) -> str:
    """``"zh"`` for Chinese Discord locales, else ``"en"``."""
    return "zh" if str(locale or "").lower().startswith("zh") else "en"


def _text(description: dict[str, str]) -> locale_str:
    english = (description.get("en") or "…")[:DESCRIPTION_LIMIT]
    chinese = (description.get("zh") or english)[:DESCRIPTION_LIMIT]
    return locale_str(english, zh=chinese)


class SpecTranslator(app_commands.Translator):
    """Localizes command and option descriptions from the spec's Chinese text."""

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """The Chinese text for zh locales; ``None`` (keep English) for the rest."""
        if locale in ZH_LOCALES:
            text = string.extras.get("zh")
            return str(text) if text else None
        return None


def _annotation(param: ParamSpec) -> Any:
    if param.kind is ParamKind.IMAGE:
        return discord.Attachment
    if param.kind is ParamKind.BOOLEAN:
        return bool
    base: type = {ParamKind.INTEGER: int, ParamKind.NUMBER: float}.get(param.kind, str)
    if base is str or (param.min_value is None and param.max_value is None):
        return base
    low = base(param.min_value) if param.min_value is not None else None
    high = base(param.max_value) if param.max_value is not None else None
    return app_commands.Range[base, low, high]


def _choices(param: ParamSpec) -> list[Choice[Any]]:
    convert: Callable[[str], Any] = {ParamKind.INTEGER: int, ParamKind.NUMBER: float}.get(
        param.kind, str
    )
    return [Choice(name=value, value=convert(value)) for value in param.choices[:CHOICE_LIMIT]]


def build_command(
    spec: CommandSpec, on_command: CommandHandler, on_autocomplete: AutocompleteHandler
) -> app_commands.Command[Any, ..., None]:
    """The slash command for ``spec`` (named ``spec.name_on("discord")``)."""

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        await on_command(interaction, spec, values)

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    descriptions: dict[str, locale_str] = {}
    choices: dict[str, list[Choice[Any]]] = {}
    completers: dict[str, Callable[..., Awaitable[list[Choice[str]]]]] = {}
    for param in spec.params:
        annotation = _annotation(param)
        parameters.append(
            inspect.Parameter(
                param.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=annotation if param.required else annotation | None,
                default=inspect.Parameter.empty if param.required else None,
            )
        )
        descriptions[param.name] = _text(param.description)
        if param.choices:
            choices[param.name] = _choices(param)
        elif param.autocomplete and param.kind is ParamKind.STRING:
            completers[param.name] = _completer(param.autocomplete, on_autocomplete)
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__discord_app_commands_param_description__ = descriptions  # type: ignore[attr-defined]
    callback.__discord_app_commands_param_choices__ = choices  # type: ignore[attr-defined]
    callback.__discord_app_commands_param_autocomplete__ = completers  # type: ignore[attr-defined]
    if spec.permission is Permission.CHAT_ADMIN:
        callback.__discord_app_commands_default_permissions__ = (  # type: ignore[attr-defined]
            discord.Permissions(manage_guild=True)
        )
    contexts = app_commands.AppCommandContext(
        guild=spec.groups, dm_channel=spec.private, private_channel=spec.private
    )
    return app_commands.Command(
        name=spec.name_on(PLATFORM),
        description=_text(spec.description),
        callback=callback,
        allowed_contexts=contexts,
        allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
        extras={"spec": spec.name},
    )


def _completer(
    source: str, on_autocomplete: AutocompleteHandler
) -> Callable[[discord.Interaction, str], Awaitable[list[Choice[str]]]]:
    async def complete(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return (await on_autocomplete(interaction, source, current))[:CHOICE_LIMIT]

    return complete


def build_commands(
    specs: Sequence[CommandSpec], on_command: CommandHandler, on_autocomplete: AutocompleteHandler
) -> list[app_commands.Command[Any, ..., None]]:
    """Slash commands for every spec offered on Discord."""
    return [
        build_command(spec, on_command, on_autocomplete)
        for spec in specs
        if spec.offered_on(PLATFORM) and (spec.private or spec.groups)
    ]


async def export_payload(
    tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None
) -> list[dict[str, Any]]:
    """Exactly what ``tree.sync(guild=guild)`` uploads (translations included)."""
    translator = tree.translator
    commands = tree.get_commands(guild=guild)
    if translator is None:
        return [command.to_dict(tree) for command in commands]
    return [await command.get_translated_payload(tree, translator) for command in commands]


def payload_hash(payload: list[dict[str, Any]]) -> str:
    """A stable SHA-256 of a command payload."""
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class SyncState:
    """Last synced payload hash per target, in a small JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, target: str) -> str | None:
        """The stored hash for ``target`` (``"<app>:global"`` or ``"<app>:guild:<id>"``)."""
        return self._load().get(target)

    def put(self, target: str, digest: str) -> None:
        """Store ``digest`` for ``target`` (atomically replaces the file)."""
        data = self._load()
        data[target] = digest
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), "utf-8")
        tmp.replace(self.path)


async def sync_if_changed(
    tree: app_commands.CommandTree[Any],
    application_id: int,
    guild_id: int | None,
    state: SyncState,
) -> bool:
    """Sync the tree to ``guild_id`` (or globally) unless the stored hash matches.

    Returns whether a sync request was made.
    """
    guild = discord.Object(id=guild_id) if guild_id is not None else None
    scope = f"guild:{guild_id}" if guild_id is not None else "global"
    target = f"{application_id}:{scope}"
    digest = payload_hash(await export_payload(tree, guild))
    if state.get(target) == digest:
        log.info("discord commands unchanged (%s), not syncing", target)
        return False
    synced = await tree.sync(guild=guild)
    state.put(target, digest)
    log.info("synced %d discord commands to %s", len(synced), target)
    return True
