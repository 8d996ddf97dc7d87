"""The model picker: ``/model`` without a name answers with paged action buttons.

Views (each an ordinary ``CommandReply`` with ``actions``):

* vendors, ``VENDORS_PER_PAGE`` per page, two per row; a vendor button is a
  ``model.page`` action (payload ``{"vendor": name, "page": 0, "scope": scope}``);
* one vendor's models, ``MODELS_PER_PAGE`` per page, two per row; a model button is a
  ``model.pick`` action (payload ``{"model": name, "scope": scope}``);
* a navigation row: back to vendors, previous / next page (``model.page``).

At most 4 rows of 2 plus a navigation row of at most 3: fits Discord's 5 action rows
of 5 components (Discord docs) and Telegram's inline keyboards. Pressing any of them
answers with ``replace=True``: the picker message is edited in place.
"""

from __future__ import annotations

from typing import Any

from core.actions import ActionContext, ActionOutcome, ActionService, ActionSpec
from core.commands.replies import CommandReply
from core.conversation.keys import ChatRef
from core.i18n import t
from core.models import ModelCatalog
from core.parts import Action, ActionRows

VENDORS_PER_PAGE = 8
MODELS_PER_PAGE = 8
PER_ROW = 2
PICKER_TTL = 24 * 3600.0
"""Seconds a picker's buttons stay usable (assumed: long enough to pick, short enough
to keep the actions table small; an expired button says so politely)."""

PAGE_KIND = "model.page"
PICK_KIND = "model.pick"


def _page_of(count: int, per_page: int, page: int) -> tuple[int, int]:
    """(clamped page, number of pages) for ``count`` items."""
    pages = max(1, -(-count // per_page))
    return min(max(page, 0), pages - 1), pages


class ModelPicker:
    """Builds picker views and handles their buttons."""

    def __init__(self, catalog: ModelCatalog, actions: ActionService) -> None:
        self._catalog = catalog
        self._actions = actions
        actions.register(PAGE_KIND, self._on_page)
        actions.register(PICK_KIND, self._on_pick)

    async def vendors(self, chat: ChatRef, owner_id: str, lang: str, *, current: str,
                      page: int = 0, scope: str = "me") -> CommandReply:
        """The vendors view (page ``page``, 0-based, clamped)."""
        groups = self._catalog.by_vendor()
        page, pages = _page_of(len(groups), VENDORS_PER_PAGE, page)
        shown = list(groups.items())[page * VENDORS_PER_PAGE:(page + 1) * VENDORS_PER_PAGE]
        labels = [(("✓ " if any(m.name == current for m in models) else "") + vendor,
                   (PAGE_KIND, {"vendor": vendor, "page": 0, "scope": scope}))
                  for vendor, models in shown]
        navigation = self._navigation(lang, "", page, pages, scope, back=False)
        rows = await self._rows(chat, owner_id, labels, navigation)
        return CommandReply(t("picker.vendors", lang, page=page + 1, pages=pages),
                            ephemeral=True, actions=rows)

    async def models(self, chat: ChatRef, owner_id: str, lang: str, vendor: str, *,
                     current: str, page: int = 0, scope: str = "me") -> CommandReply:
        """One vendor's models (the vendors view when the vendor is gone)."""
        models = self._catalog.by_vendor().get(vendor)
        if not models:
            return await self.vendors(chat, owner_id, lang, current=current, scope=scope)
        page, pages = _page_of(len(models), MODELS_PER_PAGE, page)
        shown = models[page * MODELS_PER_PAGE:(page + 1) * MODELS_PER_PAGE]
        labels = [(("✓ " if m.name == current else "") + m.name,
                   (PICK_KIND, {"model": m.name, "scope": scope})) for m in shown]
        navigation = self._navigation(lang, vendor, page, pages, scope, back=True)
        rows = await self._rows(chat, owner_id, labels, navigation)
        return CommandReply(t("picker.models", lang, vendor=vendor, page=page + 1,
                              pages=pages), ephemeral=True, actions=rows)

    @staticmethod
    def _navigation(lang: str, vendor: str, page: int, pages: int, scope: str, *,
                    back: bool) -> list[tuple[str, ActionSpec]]:
        def to(target_vendor: str, target: int) -> ActionSpec:
            return PAGE_KIND, {"vendor": target_vendor, "page": target, "scope": scope}

        buttons: list[tuple[str, ActionSpec]] = []
        if back:
            buttons.append(("« " + t("picker.back", lang), to("", 0)))
        if page > 0:
            buttons.append(("‹ " + t("picker.prev", lang), to(vendor, page - 1)))
        if page + 1 < pages:
            buttons.append((t("picker.next", lang) + " ›", to(vendor, page + 1)))
        return buttons

    async def _rows(self, chat: ChatRef, owner_id: str, items: list[tuple[str, ActionSpec]],
                    navigation: list[tuple[str, ActionSpec]]) -> ActionRows:
        """Create the actions (one transaction) and lay the buttons out in rows."""
        ids = await self._actions.create_many([spec for _, spec in items + navigation],
                                              chat=chat, owner_id=owner_id,
                                              who="requester", ttl=PICKER_TTL)
        buttons = [Action(action_id, label, style="primary" if label.startswith("✓") else
                          "secondary", who="requester")
                   for action_id, (label, _) in zip(ids, items + navigation, strict=True)]
        choices, nav = buttons[:len(items)], buttons[len(items):]
        rows = [tuple(choices[i:i + PER_ROW]) for i in range(0, len(choices), PER_ROW)]
        if nav:
            rows.append(tuple(nav))
        return tuple(rows)

    async def _on_page(self, ctx: ActionContext) -> ActionOutcome:
        payload: dict[str, Any] = ctx.payload
        vendor, scope = str(payload.get("vendor") or ""), str(payload.get("scope") or "me")
        page = int(payload.get("page") or 0)
        current = (await ctx.core.current_model(ctx.chat, ctx.actor)).name
        if vendor:
            reply = await self.models(ctx.chat, ctx.owner_id, ctx.lang, vendor,
                                      current=current, page=page, scope=scope)
        else:
            reply = await self.vendors(ctx.chat, ctx.owner_id, ctx.lang, current=current,
                                       page=page, scope=scope)
        return ActionOutcome(reply=reply, replace=True)

    async def _on_pick(self, ctx: ActionContext) -> ActionOutcome:
        args = {"name": str(ctx.payload.get("model") or ""),
                "scope": str(ctx.payload.get("scope") or "me")}
        reply = await ctx.core.run_command("model", args, ctx.chat, ctx.actor)
        return ActionOutcome(reply=reply, replace=True)
