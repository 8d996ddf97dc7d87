"""Core command behaviour, producing neutral ``CommandReply`` values."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.commands.parser import RESET_WORDS, SCOPE_WORDS, convert
from core.commands.picker import ModelPicker
from core.commands.registry import COMMANDS, COMMANDS_BY_NAME
from core.commands.replies import CommandReply
from core.commands.setting_specs import SETTING_SPECS, SETTINGS, SettingEnv, SettingSpec, show_value
from core.commands.spec import CommandSpec, Permission
from core.conversation.keys import Actor, ChatRef
from core.conversation.settings import (
    CHAT,
    CHAT_ONLY_SETTINGS,
    DEFAULT,
    GLOBAL,
    USER,
    EffectiveSettings,
    Resolved,
    SettingsService,
)
from core.errors import PermissionDenied, UserInputError
from core.i18n import t
from core.images.validation import DEFAULT_IMAGE_MODEL, rules_for
from core.models import ModelCatalog
from core.storage import ScopeKey
from core.tools import ToolRegistry

MAX_PERSONA_CHARS = 4000


@dataclass(frozen=True, slots=True)
class CommandContext:
    """Who runs a command, where, and in which language."""

    chat: ChatRef
    actor: Actor
    lang: str
    is_bot_admin: bool = False


ConversationAction = Callable[[ChatRef, Actor], Awaitable[bool]]
ExtraHandler = Callable[[dict[str, Any], "CommandContext"], Awaitable[CommandReply]]
"""A command handler added from outside (``CommandHandlers.add``)."""


class CommandHandlers:
    """Runs core commands against settings, the catalog and conversations."""

    def __init__(self, *, settings: SettingsService, catalog: ModelCatalog,
                 new_conversation: ConversationAction, cancel: ConversationAction,
                 picker: ModelPicker | None = None, tools: ToolRegistry | None = None) -> None:
        self._settings = settings
        self._tools = tools if tools is not None else ToolRegistry()
        self._picker = picker
        self._catalog = catalog
        self._new_conversation = new_conversation
        self._cancel = cancel
        self._extra: dict[str, ExtraHandler] = {}

    def add(self, name: str, handler: ExtraHandler) -> None:
        """Run ``handler(values, ctx)`` for command ``name`` (e.g. Midjourney's). Its
        values are the converted params plus, unconverted, image params and any other
        argument the adapter passed (``images``, ``reply_to``)."""
        self._extra[name] = handler

    async def execute(self, spec: CommandSpec, args: Mapping[str, Any],
                      ctx: CommandContext) -> CommandReply:
        """Run ``spec`` with typed ``args``; user errors raise UserInputError."""
        self._check_permission(spec, ctx)
        values = {p.name: convert(spec, p, args[p.name]) for p in spec.params
                  if p.name in args and args[p.name] is not None and p.kind.value != "image"}
        extra = self._extra.get(spec.name)
        if extra is not None:
            passed = {k: v for k, v in args.items() if k not in values and v is not None}
            return await extra({**passed, **values}, ctx)
        handler: Callable[[dict[str, Any], CommandContext], Awaitable[CommandReply]] = getattr(
            self, f"_cmd_{spec.name}")
        return await handler(values, ctx)

    @staticmethod
    def _check_permission(spec: CommandSpec, ctx: CommandContext) -> None:
        if spec.permission is Permission.BOT_ADMIN and not ctx.is_bot_admin:
            raise PermissionDenied("error.bot_admin_only")
        if spec.permission is Permission.CHAT_ADMIN and not (
                ctx.actor.is_chat_admin or ctx.is_bot_admin or ctx.chat.is_private):
            raise PermissionDenied()

    def _scope(self, values: dict[str, Any], ctx: CommandContext) -> str:
        if values.get("scope") == "chat" and not ctx.chat.is_private:
            if not (ctx.actor.is_chat_admin or ctx.is_bot_admin):
                raise PermissionDenied()
            return CHAT
        return USER

    async def _cmd_start(self, values: dict[str, Any], ctx: CommandContext) -> CommandReply:
        effective = await self._settings.resolve(ctx.chat, ctx.actor)
        return CommandReply(t("cmd.start", ctx.lang, model=effective["model"],
                              help_hint=t("cmd.help_hint", ctx.lang)))

    async def _cmd_help(self, values: dict[str, Any], ctx: CommandContext) -> CommandReply:
        platform = ctx.chat.platform
        lines = [t("cmd.help_title", ctx.lang), ""]
        for spec in COMMANDS:
            offered = spec.private if ctx.chat.is_private else spec.groups
            if spec.offered_on(platform) and offered:
                lines.append(f"/{spec.name_on(platform)} — {spec.describe(ctx.lang)}")
        if not ctx.chat.is_private:
            ask = next(s for s in COMMANDS if s.name == "ask").name_on(platform)
            lines += ["", t("cmd.help_groups", ctx.lang, ask=ask)]
        return CommandReply("\n".join(lines))

    async def _cmd_new(self, values: dict[str, Any], ctx: CommandContext) -> CommandReply:
        moderator = ctx.chat.is_private or ctx.actor.is_chat_admin or ctx.is_bot_admin
        if not moderator and not (await self._settings.chat_options(ctx.chat)).per_user:
            raise PermissionDenied("error.shared_context_admin")
        await self._cancel(ctx.chat, ctx.actor)
        await self._new_conversation(ctx.chat, ctx.actor)
        return CommandReply(t("cmd.new", ctx.lang))

    async def _cmd_cancel(self, values: dict[str, Any], ctx: CommandContext) -> CommandReply:
        cancelled = await self._cancel(ctx.chat, ctx.actor)
        key = "cmd.cancel_done" if cancelled else "turn.nothing_to_cancel"
        return CommandReply(t(key, ctx.lang), ephemeral=True)

    async def _cmd_model(self, values: dict[str, Any], ctx: CommandContext) -> CommandReply:
        name = values.get("name")
        if not name:
            effective = await self._settings.resolve(ctx.chat, ctx.actor)
            current = self._catalog.info(str(effective["model"]))
            scope = t(f"scope.{_scope_of(effective.source('model'))}", ctx.lang)
            text = t("cmd.model_current", ctx.lang, model=current.name, vendor=current.vendor,
                     scope=scope)
            if self._picker is None:
                return CommandReply(f"{text}\n{t('cmd.model_pick', ctx.lang)}", ephemeral=True)
            view = await self._picker.vendors(ctx.chat, ctx.actor.user_id, ctx.lang,
                                              current=current.name,
                                              scope=str(values.get("scope") or "me"))
            return CommandReply(f"{text}\n{view.text}", ephemeral=True, actions=view.actions)
        resolution = self._catalog.resolve(str(name))
        if resolution.model is None or resolution.model.kind != "chat":
            text = t("cmd.model_unknown", ctx.lang, name=name)
            if resolution.suggestions:
                suggestions = ", ".join(f"`{s}`" for s in resolution.suggestions)
                text += " " + t("cmd.model_suggest", ctx.lang, suggestions=suggestions)
            return CommandReply(text, ephemeral=True, is_error=True)
        scope = self._scope(values, ctx)
        model = resolution.model
        await self._settings.set(self._settings.scope_key(scope, ctx.chat, ctx.actor),
                                 "model", model.name)
        text = t("cmd.model_set", ctx.lang, model=model.name, vendor=model.vendor,
                 scope=t(f"scope.{scope}", ctx.lang))
        return CommandReply(text + await self._shadowed("model", model.name, ctx),
                            ephemeral=True)

    async def _cmd_models(self, values: dict[str, Any], ctx: CommandContext) -> CommandReply:
        lines = [t("cmd.models_title", ctx.lang) + " " + t("cmd.models_vision", ctx.lang)]
        for vendor, models in self._catalog.by_vendor().items():
            names = ", ".join(f"`{m.name}`" + (" 👁" if m.vision else "") for m in models)
            lines.append(f"**{vendor}**: {names}")
        return CommandReply("\n".join(lines), ephemeral=True)

    async def _cmd_persona(self, values: dict[str, Any], ctx: CommandContext) -> CommandReply:
        text = str(values.get("text") or "").strip()
        if not text:
            effective = await self._settings.resolve(ctx.chat, ctx.actor)
            persona = str(effective["persona"] or "")
            if not persona:
                return CommandReply(t("cmd.persona_none", ctx.lang), ephemeral=True)
            scope = t(f"scope.{_scope_of(effective.source('persona'))}", ctx.lang)
            return CommandReply(t("cmd.persona_show", ctx.lang, scope=scope, persona=persona),
                                ephemeral=True)
        scope = self._scope(values, ctx)
        key = self._settings.scope_key(scope, ctx.chat, ctx.actor)
        if text.lower() in RESET_WORDS:
            done = t("cmd.persona_reset", ctx.lang, scope=t(f"scope.{scope}", ctx.lang))
            return CommandReply(await self._reset(key, "persona", scope, done, ctx),
                                ephemeral=True)
        if len(text) > MAX_PERSONA_CHARS:
            raise UserInputError("cmd.persona_too_long", limit=MAX_PERSONA_CHARS)
        await self._settings.set(key, "persona", text)
        reply = t("cmd.persona_set", ctx.lang, scope=t(f"scope.{scope}", ctx.lang))
        reply += await self._shadowed("persona", text, ctx)
        last = text.split()[-1].lower()
        if last in SCOPE_WORDS and not values.get("scope"):  # kept as text (take_scope)
            reply += "\n" + t("cmd.persona_scope_word", ctx.lang, word=last)
        return CommandReply(reply, ephemeral=True)

    async def _reset(self, key: ScopeKey, name: str, scope: str, done: str,
                     ctx: CommandContext) -> str:
        """Clear ``name`` at ``key``: ``done`` when something was removed, else "was not
        set"; plus the value that still applies from another stored scope (a reset of
        "me" under a chat setting changes nothing the user sees, and says so)."""
        removed = await self._settings.clear(key, name)
        text = done if removed else t("cmd.reset_nothing", ctx.lang,
                                      name=t(f"setting.{name}", ctx.lang),
                                      scope=t(f"scope.{scope}", ctx.lang))
        resolved = (await self._settings.resolve(ctx.chat, ctx.actor)).values.get(name)
        if resolved is not None and resolved.source != DEFAULT:
            text += "\n" + t("cmd.reset_still", ctx.lang,
                              value=show_value(name, resolved.value),
                              source=t(f"source.{_scope_of(resolved.source)}", ctx.lang))
        return text

    async def _shadowed(self, name: str, value: Any, ctx: CommandContext) -> str:
        """"" or a line saying the actor's own (narrower) setting still wins over the
        ``value`` just stored (``/model x chat`` by an admin with their own model)."""
        resolved = (await self._settings.resolve(ctx.chat, ctx.actor)).values.get(name)
        if resolved is None or resolved.value == value:
            return ""
        return "\n" + t("cmd.set_shadowed", ctx.lang, value=show_value(name, resolved.value),
                        source=t(f"source.{_scope_of(resolved.source)}", ctx.lang))

    async def _cmd_settings(self, values: dict[str, Any], ctx: CommandContext) -> CommandReply:
        name, value = values.get("name"), values.get("value")
        if name and value is not None:
            return await self._change_setting(str(name), str(value), values, ctx)
        effective = await self._settings.resolve(ctx.chat, ctx.actor)
        if name:
            spec = SETTING_SPECS[str(name)]
            hint = spec.hint(self._env(effective)) if spec.hint is not None else ""
            line = self._setting_line(spec, effective.values[spec.name], ctx)
            return CommandReply(line + "\n" + t("cmd.settings_values", ctx.lang, name=name,
                                                 values=hint), ephemeral=True)
        lines = [t("cmd.settings_title", ctx.lang)]
        for spec in SETTINGS:
            if spec.name in effective.values and (spec.private or not ctx.chat.is_private):
                lines.append(self._setting_line(spec, effective.values[spec.name], ctx))
        lines.append(t("cmd.settings_how", ctx.lang))
        return CommandReply("\n".join(lines), ephemeral=True)

    def _setting_line(self, spec: SettingSpec, resolved: Resolved, ctx: CommandContext) -> str:
        """One listed setting, saying how it changes: ``/settings <name>``, the command
        that owns it, or read-only (only bot owners set it here)."""
        params = {"name": spec.name, "label": t(f"setting.{spec.name}", ctx.lang),
                  "value": show_value(spec.name, resolved.value),
                  "source": t(f"source.{_scope_of(resolved.source)}", ctx.lang)}
        if spec.command is not None:
            command = COMMANDS_BY_NAME[spec.command].name_on(ctx.chat.platform)
            return t("cmd.settings_item_via", ctx.lang, command=command, **params)
        owner_only = spec.owner_in_private and ctx.chat.is_private and not ctx.is_bot_admin
        if not spec.settable or owner_only:
            return t("cmd.settings_item_fixed", ctx.lang, **params)
        return t("cmd.settings_item", ctx.lang, **params)

    def _env(self, effective: EffectiveSettings) -> SettingEnv:
        configured = effective.values.get("image_model")
        image_model = self._image_model_name(str(configured.value if configured is not None
                                                 and configured.value else DEFAULT_IMAGE_MODEL))
        return SettingEnv(tool_names=self._tools.names(),
                          image_model_name=self._image_model_name, image_model=image_model)

    def _image_model_name(self, name: str) -> str:
        info = self._catalog.get(name)
        return info.name if info is not None else name

    async def _change_setting(self, name: str, value: str, values: dict[str, Any],
                              ctx: CommandContext) -> CommandReply:
        spec = SETTING_SPECS[name]
        scope = (self._chat_setting_scope(spec, ctx) if name in CHAT_ONLY_SETTINGS
                 else self._scope(values, ctx))
        key = self._settings.scope_key(scope, ctx.chat, ctx.actor)
        label = t(f"setting.{name}", ctx.lang)
        where = t(f"scope.{scope}", ctx.lang)
        if value.lower().strip() in RESET_WORDS:
            text = await self._reset(key, name, scope, t("cmd.settings_reset", ctx.lang,
                                                          name=label, scope=where), ctx)
            if name in CHAT_ONLY_SETTINGS and values.get("scope") == "me":
                text += "\n" + t("cmd.settings_chat_only", ctx.lang, name=name)
            return CommandReply(text, ephemeral=True)
        assert spec.parse is not None  # the name param's choices are the settable names
        effective = await self._settings.resolve(ctx.chat, ctx.actor)
        parsed = spec.parse(value, self._env(effective))
        await self._settings.set(key, name, parsed)
        text = t("cmd.settings_set", ctx.lang, name=label, value=show_value(name, parsed),
                 scope=where) + await self._shadowed(name, parsed, ctx)
        if name in CHAT_ONLY_SETTINGS and values.get("scope") == "me":  # asked: only me
            text += "\n" + t("cmd.settings_chat_only", ctx.lang, name=name)
        size = getattr(effective.values.get("image_size"), "value", None)
        if name == "image_model" and size and size not in rules_for(parsed).sizes:
            text += "\n" + t("cmd.settings_size_unfit", ctx.lang, size=size, model=parsed,
                             sizes=", ".join(rules_for(parsed).sizes))
        return CommandReply(text, ephemeral=True)

    @staticmethod
    def _chat_setting_scope(spec: SettingSpec, ctx: CommandContext) -> str:
        """Chat settings apply to the whole chat whatever scope was asked: chat admins
        (and bot owners) change them; in a private chat only bot owners change the
        ``owner_in_private`` ones (else anyone could lift their own image allowance)."""
        if ctx.is_bot_admin:
            return CHAT
        if ctx.chat.is_private:
            if spec.owner_in_private:
                raise PermissionDenied("error.bot_admin_only")
            return CHAT
        if not ctx.actor.is_chat_admin:
            raise PermissionDenied()
        return CHAT

    async def _cmd_mode(self, values: dict[str, Any], ctx: CommandContext) -> CommandReply:
        if ctx.chat.is_private:  # nothing stored: private chats always answer everything
            return CommandReply(t("cmd.mode_private", ctx.lang), ephemeral=True,
                                is_error=bool(values.get("reply") or values.get("context")))
        key = self._settings.scope_key(CHAT, ctx.chat, ctx.actor)
        if values.get("reply"):
            await self._settings.set(key, "reply_mode", values["reply"])
        if values.get("context"):
            await self._settings.set(key, "context_mode", values["context"])
        options = await self._settings.chat_options(ctx.chat)
        context = "per_user" if options.per_user else "shared"
        changed = bool(values.get("reply") or values.get("context"))
        return CommandReply(t("cmd.mode_set" if changed else "cmd.mode_show", ctx.lang,
                              reply=options.reply_mode, context=context))

    async def _cmd_ask(self, values: dict[str, Any], ctx: CommandContext) -> CommandReply:
        ask = next(s for s in COMMANDS if s.name == "ask").name_on(ctx.chat.platform)
        return CommandReply(t("cmd.ask_usage", ctx.lang, ask=ask), ephemeral=True, is_error=True)


def _scope_of(source: str) -> str:
    return {USER: "user", CHAT: "chat"}.get(source, GLOBAL)
