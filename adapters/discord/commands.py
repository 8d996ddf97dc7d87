"""Slash commands generated from the core's ``CommandSpec``s, and their syncing.

Each spec becomes an ``app_commands.Command`` whose callback signature is generated from
the spec's typed params (``ParamKind`` → ``str``/``int``/``float``/``bool``/
``discord.Attachment``), so discord.py validates and converts options itself.
Descriptions are ``locale_str``s carrying the Chinese text in their extras;
``SpecTranslator`` hands it to Discord for the ``zh-CN``/``zh-TW`` locales.

Syncing is rate limited (200 creates/day), so ``sync_if_changed`` fetches what Discord
has for the application once at start-up and syncs only when it differs from the payload
discord.py would upload (so commands deleted or changed elsewhere are restored).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
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


COMPARED_KEYS = (
    "type", "name", "name_localizations", "description", "description_localizations",
    "default_member_permissions", "nsfw", "contexts", "integration_types", "options",
    "required", "choices", "value", "channel_types", "min_value", "max_value", "min_length",
    "max_length", "autocomplete",
)
"""Fields of commands, options and choices that define what users see (Discord API:
Application Command Object).  Server-side fields (id, version, application_id, guild_id)
and the deprecated ``dm_permission`` (superseded by ``contexts``) are ignored."""


def normalize_command(data: dict[str, Any]) -> dict[str, Any]:
    """A comparable form of a command/option/choice (options in order, recursively).

    Absent, ``null``, ``false``, ``[]`` and ``{}`` are all "default" and dropped, so an
    uploaded payload equals what Discord hands back for it; numbers compare by value.
    """
    kept = {key: data[key] for key in COMPARED_KEYS if key in data}
    for nested in ("options", "choices"):  # lists of options / choices, recursively
        if isinstance(kept.get(nested), list):
            kept[nested] = [normalize_command(item) if isinstance(item, dict) else item
                            for item in kept[nested]]
    return {key: value for key, value in kept.items()
            if value is not None and value is not False and value != [] and value != {}}


def normalize_commands(commands: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``normalize_command`` of each, sorted by (type, name) (order is not meaningful)."""
    return sorted((normalize_command(c) for c in commands),
                  key=lambda c: (int(c.get("type", 1)), str(c.get("name", ""))))


async def fetch_remote_payload(
    tree: app_commands.CommandTree[Any], application_id: int, guild_id: int | None
) -> list[dict[str, Any]]:
    """What Discord has now for the application (globally or in ``guild_id``).

    ``GET .../commands?with_localizations=true``: without the flag Discord omits the
    localization dictionaries (Discord API: Get Global Application Commands), which
    ``CommandTree.fetch_commands`` does not set, so this calls the route itself.
    Raises ``discord.HTTPException`` on failure.
    """
    if guild_id is None:
        route = discord.http.Route("GET", "/applications/{application_id}/commands",
                                   application_id=application_id)
    else:
        route = discord.http.Route("GET", "/applications/{application_id}/guilds/{guild_id}"
                                   "/commands", application_id=application_id,
                                   guild_id=guild_id)
    http: discord.http.HTTPClient = tree.client.http
    data = await http.request(route, params={"with_localizations": "true"})
    return list(data) if isinstance(data, list) else []


async def sync_if_changed(
    tree: app_commands.CommandTree[Any], application_id: int, guild_id: int | None
) -> bool:
    """Sync the tree to ``guild_id`` (or globally) unless Discord already has it.

    One GET of the application's commands at start-up, compared (``normalize_commands``)
    with what ``tree.sync`` would upload; a differing, missing or unreadable remote set
    is synced (one bulk PUT).  Returns whether a sync request was made.
    """
    guild = discord.Object(id=guild_id) if guild_id is not None else None
    target = f"guild {guild_id}" if guild_id is not None else "global"
    local = normalize_commands(await export_payload(tree, guild))
    try:
        remote: list[dict[str, Any]] | None = normalize_commands(
            await fetch_remote_payload(tree, application_id, guild_id))
    except discord.HTTPException as exc:
        log.warning("could not read the discord commands (%s): %s; syncing", target, exc)
        remote = None
    if remote == local:
        log.info("discord commands unchanged (%s), not syncing", target)
        return False
    synced = await tree.sync(guild=guild)
    log.info("synced %d discord commands (%s)", len(synced), target)
    return True
