"""What each image model accepts, checked BEFORE any gateway call.

Sources: OpenAI Images API reference (platform.openai.com/docs/api-reference/images):
dall-e-2 sizes 256x256/512x512/1024x1024, n 1-10 (we allow at most ``DALL_E_2_MAX_N``
= 4: an album of 4 is what a chat shows well — our limit), only ``standard`` quality,
no style, prompt ≤ 1000 chars; dall-e-3 sizes 1024x1024/1792x1024/1024x1792, n = 1,
quality standard/hd, style vivid/natural, prompt ≤ 4000 chars. Edits and variations:
dall-e-2 only. CogView-3 (Zhipu BigModel docs, as listed for cogview-3-plus; assumed
the same for cogview-3 behind the gateway): sizes 1024x1024, 768x1344, 864x1152,
1344x768, 1152x864, 1440x720, 720x1440; one image per call; no quality/style (assumed);
prompt length limit assumed 1000 chars.

A bad combination raises ``UserInputError`` with a localized key (``image.bad_*``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from core.errors import UserInputError

DALL_E_2_MAX_N = 4


@dataclass(frozen=True, slots=True)
class ModelRules:
    """What one image model accepts (``sizes[0]`` is the default size)."""

    name: str
    sizes: tuple[str, ...]
    max_n: int
    qualities: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    max_prompt: int = 1000
    edits: bool = False


RULES: dict[str, ModelRules] = {rules.name: rules for rules in (
    ModelRules("dall-e-2", ("1024x1024", "512x512", "256x256"), DALL_E_2_MAX_N,
               qualities=("standard",), edits=True),
    ModelRules("dall-e-3", ("1024x1024", "1792x1024", "1024x1792"), 1,
               qualities=("standard", "hd"), styles=("vivid", "natural"), max_prompt=4000),
    ModelRules("cogview-3", ("1024x1024", "768x1344", "864x1152", "1344x768", "1152x864",
                             "1440x720", "720x1440"), 1),
)}
DEFAULT_IMAGE_MODEL = "dall-e-3"
"""The image model when a chat has no ``image_model`` setting."""
EDIT_MODEL = "dall-e-2"
"""The model of ``/edit`` and ``/vary`` (the only one the Images API edits/varies)."""
QUALITIES = ("standard", "hd")
STYLES = ("vivid", "natural")
_SIZE = re.compile(r"^(\d{2,5})\s*[x×*]\s*(\d{2,5})$")


@dataclass(frozen=True, slots=True)
class ImageParams:
    """A checked request: ``size`` ``"WxH"`` (pixels), ``n`` images."""

    model: str
    prompt: str
    size: str
    n: int = 1
    quality: str | None = None
    style: str | None = None

    def to_payload(self) -> dict[str, Any]:
        """JSON-able form (stored in action payloads)."""
        return asdict(self)

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> ImageParams:
        """Inverse of ``to_payload``."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def rules_for(model: str) -> ModelRules:
    """The rules of ``model`` (a catalog name); ``UserInputError`` for a model we cannot
    drive through the Images API (e.g. midjourney, a chat model)."""
    rules = RULES.get(model)
    if rules is None:
        raise UserInputError("image.bad_model", model=model, models=", ".join(RULES))
    return rules


def normalize_size(size: str | None) -> str | None:
    """``"1024X1024"``/``"1024×1024"``/``"1024*1024"`` → ``"1024x1024"``; None stays."""
    if size is None or not size.strip():
        return None
    matched = _SIZE.match(size.strip().lower())
    return f"{matched.group(1)}x{matched.group(2)}" if matched else size.strip()


def validate(model: str, prompt: str, *, size: str | None = None, n: int | None = None,
             quality: str | None = None, style: str | None = None,
             need_prompt: bool = True, edit: bool = False) -> ImageParams:
    """Check a request against ``model``'s rules; the checked ``ImageParams``.

    Raises ``UserInputError`` (keys ``image.bad_model``, ``image.no_prompt``,
    ``image.prompt_too_long``, ``image.bad_size``, ``image.bad_n``,
    ``image.bad_quality``, ``image.bad_style``, ``image.no_edits``)."""
    rules = rules_for(model)
    if edit and not rules.edits:
        raise UserInputError("image.no_edits", model=model, edit_model=EDIT_MODEL)
    prompt = prompt.strip()
    if need_prompt and not prompt:
        raise UserInputError("image.no_prompt")
    if len(prompt) > rules.max_prompt:
        raise UserInputError("image.prompt_too_long", length=len(prompt),
                             limit=rules.max_prompt, model=model)
    chosen = normalize_size(size) or rules.sizes[0]
    if chosen not in rules.sizes:
        raise UserInputError("image.bad_size", size=chosen, model=model,
                             sizes=", ".join(rules.sizes))
    count = 1 if n is None else n
    if not 1 <= count <= rules.max_n:
        raise UserInputError("image.bad_n", n=count, model=model, max_n=rules.max_n)
    if quality and quality not in rules.qualities:
        raise UserInputError("image.bad_quality", quality=quality, model=model,
                             qualities=", ".join(rules.qualities) or "-")
    if style and style not in rules.styles:
        raise UserInputError("image.bad_style", style=style, model=model,
                             styles=", ".join(rules.styles) or "-")
    return ImageParams(model, prompt, chosen, count, quality or None, style or None)
