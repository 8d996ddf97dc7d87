"""Buttons and prompts: what a task's ``customId`` means, how it is shown and priced.

Icons and labels come from the ``customId`` — never from the proxy's ``emoji`` field
(upscale buttons carry a custom-emoji *name*, describe-retry's is malformed on some
proxies). Buttons the gateway does not map (like/bookmark, video, PicReader,
PromptAnalyzer) are left out: new-api refuses them with ``unknown_action``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

PRICES: dict[str, float] = {
    "mj_imagine": 0.10, "mj_variation": 0.10, "mj_reroll": 0.10, "mj_blend": 0.10,
    "mj_modal": 0.10, "mj_zoom": 0.10, "mj_shorten": 0.10, "mj_high_variation": 0.10,
    "mj_low_variation": 0.10, "mj_pan": 0.10, "mj_inpaint": 0.0, "mj_custom_zoom": 0.0,
    "mj_upscale": 0.05, "mj_describe": 0.05, "swap_face": 0.05, "mj_upload": 0.05,
}
"""USD per call: new-api's default model prices for Midjourney actions (its
``ModelPrice`` table; Vary Region / Custom Zoom cost 0 because the following ``modal``
submit is charged). The same names are in the shipped catalog (kind ``mj``, field
``price_call``) so the usage ledger prices each submit; a gateway's own prices may
differ."""


@dataclass(frozen=True, slots=True)
class ButtonInfo:
    """How one customId is shown: ``icon`` (emoji), ``label`` (literal, e.g. "U2") or
    ``label_key`` (i18n), its price name (``PRICES``), whether it opens a modal
    (``modal``: "zoom" | "region" | "")."""

    icon: str
    label: str
    label_key: str
    price: str
    modal: str = ""
    row: int = 0


_PAN = {"pan_left": "⬅️", "pan_right": "➡️", "pan_up": "⬆️", "pan_down": "⬇️"}


def button_info(custom_id: str) -> ButtonInfo | None:
    """The presentation of ``custom_id``, or None for buttons we do not offer."""
    parts = custom_id.split("::")
    if len(parts) < 2 or parts[0] != "MJ":
        return None
    if parts[1] == "CustomZoom":
        return ButtonInfo("🔍", "", "mj.btn.custom_zoom", "mj_custom_zoom", "zoom", 2)
    if parts[1] == "Inpaint":
        return ButtonInfo("🖌️", "", "mj.btn.vary_region", "mj_inpaint", "region", 1)
    if parts[1] == "Outpaint" and len(parts) > 2:
        key = "mj.btn.zoom_out_2" if parts[2] == "50" else "mj.btn.zoom_out_15"
        return ButtonInfo("🔍", "", key, "mj_zoom", row=2)
    if parts[1].upper() != "JOB" or len(parts) < 4:
        return None
    job, index, solo = parts[2], parts[3], parts[-1] == "SOLO"
    if job == "upsample":
        return ButtonInfo("", f"U{index}", "", "mj_upscale")
    if job.startswith("upsample_"):
        key = ("mj.btn.upscale_subtle" if "subtle" in job else "mj.btn.upscale_creative"
               if "creative" in job else "mj.btn.upscale_4x" if "4x" in job
               else "mj.btn.upscale_2x")
        return ButtonInfo("⏫", "", key, "mj_upscale")
    if job == "variation":
        if solo:
            return ButtonInfo("🪄", "", "mj.btn.vary", "mj_variation", row=1)
        return ButtonInfo("", f"V{index}", "", "mj_variation", row=1)
    if job == "low_variation":
        return ButtonInfo("🪄", "", "mj.btn.vary_subtle", "mj_low_variation", row=1)
    if job == "high_variation":
        return ButtonInfo("🪄", "", "mj.btn.vary_strong", "mj_high_variation", row=1)
    if job == "reroll":
        return ButtonInfo("🔄", "", "", "mj_reroll")
    if job in _PAN:
        return ButtonInfo(_PAN[job], "", "", "mj_pan", row=3)
    return None


def task_buttons(task: dict[str, Any]) -> list[str]:
    """The customIds of ``task``'s buttons that we offer, in the proxy's order."""
    found = []
    for button in task.get("buttons") or ():
        custom = button.get("customId") if isinstance(button, dict) else None
        if isinstance(custom, str) and button_info(custom) is not None:
            found.append(custom)
    return found


_FLAG_NAMES = (
    "ar|aspect|v|version|niji|q|quality|s|stylize|c|chaos|no|seed|sameseed|stop|style|tile|"
    "iw|weird|w|cref|cw|sref|sw|p|personalize|r|repeat|fast|relax|turbo|draft|raw|hd|"
    "zoom|exp|oref|ow|sv|video|motion|loop|profile|test|testp|creative|uplight|upbeta")
_DASH_FLAG = re.compile(rf"(^|\s)(?:——|[—–]|--)\s?({_FLAG_NAMES})(?=\s|$|\d)", re.IGNORECASE)
_SPEED_FLAG = re.compile(r"(^|\s)--(fast|relax|turbo)(?=\s|$)", re.IGNORECASE)


def restore_flags(prompt: str) -> str:
    """Undo Telegram's typing substitution of ``--`` by an em-dash before Midjourney
    parameters: ``—ar 16:9`` → ``--ar 16:9``, ``—niji`` → ``--niji``, ``— v 6`` →
    ``--v 6`` (only before known parameter names, so a prose dash stays)."""
    return _DASH_FLAG.sub(lambda m: f"{m.group(1)}--{m.group(2).lower()}", prompt).strip()


def take_speed(prompt: str) -> tuple[str, str]:
    """``(prompt without --fast/--relax/--turbo, the last such speed or "")``: speed goes
    in the path prefix because gateways may strip these flags."""
    found = [m.group(2).lower() for m in _SPEED_FLAG.finditer(prompt)]
    cleaned = " ".join(_SPEED_FLAG.sub(r"\1", prompt).split())
    return cleaned, (found[-1] if found else "")


_NUMBER = re.compile(r"^\s*(?:\d\ufe0f?\u20e3|[1-5][.)])\s*")
_SHORTENED = re.compile(r"shortened prompts?", re.IGNORECASE)


def numbered_lines(text: str) -> list[str]:
    """The lines of a describe/shorten result that start with 1️⃣…5️⃣ (or "1."), the
    number stripped."""
    lines = []
    for line in text.splitlines():
        if _NUMBER.match(line):
            cleaned = _NUMBER.sub("", line).strip()
            if cleaned:
                lines.append(cleaned)
    return lines


def described_prompts(task: dict[str, Any]) -> list[str]:
    """Describe's four prompts: ``properties.finalPrompt`` (or ``promptEn``)."""
    props = task.get("properties") or {}
    for text in (props.get("finalPrompt"), task.get("promptEn"), task.get("prompt")):
        if isinstance(text, str) and numbered_lines(text):
            return numbered_lines(text)
    return []


def shortened_prompts(task: dict[str, Any]) -> list[str]:
    """Shorten's prompts: the numbered lines after "Shortened prompts" in the
    ``description`` (else in ``properties.finalPrompt``)."""
    props = task.get("properties") or {}
    for text in (task.get("description"), props.get("finalPrompt")):
        if isinstance(text, str):
            found = _SHORTENED.search(text)
            if found and numbered_lines(text[found.end():]):
                return numbered_lines(text[found.end():])
    return []
