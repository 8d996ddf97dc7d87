"""The model catalog: shipped data, extra config, and the gateway's live list."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.events import Usage

CHAT = "chat"
DEFAULT_CURRENCY = "USD"
_PRICE_ALIASES = {"price_in": "price_prompt", "price_out": "price_completion"}
_VENDOR_PREFIXES: tuple[tuple[str, str], ...] = (
    ("gpt-", "OpenAI"), ("o1", "OpenAI"), ("dall-e", "OpenAI"), ("qwen", "Alibaba"),
    ("ernie", "Baidu"), ("chatglm", "Zhipu"), ("glm", "Zhipu"), ("cogview", "Zhipu"),
    ("hunyuan", "Tencent"), ("spark", "iFlytek"), ("moonshot", "Moonshot"),
    ("gemini", "Google"), ("claude", "Anthropic"), ("step", "StepFun"),
    ("deepseek", "DeepSeek"), ("yi-", "01.AI"), ("mj", "Midjourney"),
)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the bot knows about one model.

    Prices are in the catalog's currency (``ModelCatalog.currency``, USD unless the
    catalog file says ``"currency"``); ``None`` means unknown (the ledger's cost is then
    NULL). Token prices are per 1,000 tokens as the gateway counts them:
    ``price_prompt`` for prompt (input) tokens, ``price_completion`` for completion
    (output) tokens (older files' ``price_in``/``price_out`` are read as these).
    ``price_image`` is per generated image, ``price_second`` per second of audio
    (transcription), ``price_1k_chars`` per 1,000 characters of input text (speech),
    ``price_call`` per call (whatever it consumed).
    """

    name: str
    vendor: str = "Other"
    kind: str = CHAT
    context_window: int = 4096
    max_output: int = 1024
    vision: bool = False
    tools: bool = False
    streaming: bool = True
    image_output: bool = False
    aliases: tuple[str, ...] = ()
    price_prompt: float | None = None
    price_completion: float | None = None
    price_image: float | None = None
    price_second: float | None = None
    price_1k_chars: float | None = None
    price_call: float | None = None
    known: bool = True
    live: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelInfo:
        """Build from catalog JSON (unknown keys are ignored)."""
        data = {_PRICE_ALIASES.get(k, k): v for k, v in data.items()}
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "aliases" in fields:
            fields["aliases"] = tuple(fields["aliases"])
        return cls(**fields)

    def cost(self, usage: Usage, units: float | None = None,
             unit: str | None = None) -> float | None:
        """The price of one call that consumed ``usage`` tokens and ``units`` of
        ``unit`` ("images" | "seconds" | "characters"), plus ``price_call``; ``None``
        when a needed price is unknown (or nothing is priced at all)."""
        parts: list[float | None] = []
        if usage.prompt_tokens:
            parts.append(_per(self.price_prompt, usage.prompt_tokens / 1000))
        if usage.completion_tokens:
            parts.append(_per(self.price_completion, usage.completion_tokens / 1000))
        if units and unit in ("images", "seconds", "characters"):
            price = {"images": self.price_image, "seconds": self.price_second,
                     "characters": self.price_1k_chars}.get(unit or "")
            parts.append(_per(price, units / 1000 if unit == "characters" else units))
        if self.price_call is not None:
            parts.append(self.price_call)
        if not parts or any(part is None for part in parts):
            return None
        return round(sum(part for part in parts if part is not None), 8)


def _per(price: float | None, amount: float) -> float | None:
    return None if price is None else price * amount


def read_extra_models(path: Path) -> list[ModelInfo]:
    """Entries of an extra-models JSON file: ``{"models": [{"name": "...", ...}]}``.

    Raises ``ValueError`` with a one-line reason when the file cannot be read, is not
    JSON, or an entry is not an object with a string ``name`` (``OSError`` is wrapped).
    """
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON ({exc})") from None
    entries = data.get("models") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f'{path} must hold {{"models": [...]}}')
    models = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValueError(f'{path}: model #{number} needs a string "name"')
        try:
            models.append(ModelInfo.from_dict(entry))
        except TypeError as exc:
            raise ValueError(f"{path}: model #{number}: {exc}") from None
    return models


def guess_vendor(name: str) -> str:
    """The vendor of a model the catalog does not know, from its name."""
    lowered = name.lower()
    for prefix, vendor in _VENDOR_PREFIXES:
        if lowered.startswith(prefix):
            return vendor
    return "Other"


@dataclass(slots=True)
class Resolution:
    """The result of resolving a user-typed model name."""

    model: ModelInfo | None
    suggestions: list[str] = field(default_factory=list)


class ModelCatalog:
    """Models by name with alias and case-insensitive lookup, merged with live ids."""

    def __init__(self, models: Iterable[ModelInfo], *,
                 currency: str = DEFAULT_CURRENCY) -> None:
        self.currency = currency
        """ISO 4217 code of every price in this catalog (and of the ledger's ``cost``)."""
        self._models: dict[str, ModelInfo] = {}
        self._index: dict[str, str] = {}
        self._live_loaded = False
        for model in models:
            self._add(model)

    @classmethod
    def shipped(cls, extra_file: Path | None = None) -> ModelCatalog:
        """The catalog shipped with chatbridge, plus entries from ``extra_file`` (JSON,
        ``{"models": [...]}``, prices in the shipped catalog's currency)."""
        raw = resources.files("core.models").joinpath("catalog.json").read_text("utf-8")
        shipped = json.loads(raw)
        models = [ModelInfo.from_dict(entry) for entry in shipped["models"]]
        if extra_file is not None:
            models += read_extra_models(extra_file)
        return cls(models, currency=shipped.get("currency", DEFAULT_CURRENCY))

    def _add(self, model: ModelInfo) -> None:
        self._models[model.name] = model
        for key in (model.name, *model.aliases):
            self._index[key.lower()] = model.name

    def merge_live(self, ids: Iterable[str]) -> None:
        """Mark gateway-listed models live; unknown ids get conservative defaults."""
        live = dict.fromkeys(ids)  # a set in the gateway's order: menus page stably
        for name, model in list(self._models.items()):
            self._models[name] = replace(model, live=name in live)
        for name in live:
            if name in self._models:
                continue
            canonical = self._index.get(name.lower())
            if canonical is None:
                self._add(ModelInfo(name=name, vendor=guess_vendor(name), known=False, live=True))
            else:  # the gateway spells a known model differently: offer its spelling
                known = self._models[canonical]
                self._add(replace(known, name=name, aliases=(), live=True))
        self._live_loaded = bool(live)

    def get(self, name: str) -> ModelInfo | None:
        """Exact, alias, then case-insensitive lookup."""
        model = self._models.get(name)
        if model is not None:
            return model
        canonical = self._index.get(name.lower())
        return self._models.get(canonical) if canonical else None

    def info(self, name: str) -> ModelInfo:
        """The entry for ``name``, or conservative defaults for an unknown model."""
        return self.get(name) or ModelInfo(name=name, vendor=guess_vendor(name), known=False)

    def resolve(self, name: str, limit: int = 5) -> Resolution:
        """Resolve a typed name; when unknown, suggest close names ("did you mean")."""
        model = self.get(name.strip())
        if model is not None:
            return Resolution(model)
        return Resolution(None, self.suggest(name, limit))

    def suggest(self, text: str, limit: int = 5) -> list[str]:
        """Names close to ``text``: substring matches first, then fuzzy matches."""
        needle = text.strip().lower()
        names = [m.name for m in self.chat_models()]
        contains = [n for n in names if needle and needle in n.lower()]
        fuzzy = difflib.get_close_matches(needle, [n.lower() for n in names], n=limit, cutoff=0.5)
        by_lower = {n.lower(): n for n in names}
        ordered = contains + [by_lower[f] for f in fuzzy if by_lower[f] not in contains]
        return ordered[:limit]

    def chat_models(self) -> list[ModelInfo]:
        """Chat models offered to users: live ones once the live list is known."""
        models = [m for m in self._models.values() if m.kind == CHAT]
        if self._live_loaded:
            models = [m for m in models if m.live]
        return models

    def vision_models(self) -> list[ModelInfo]:
        """Offered chat models that understand images."""
        return [m for m in self.chat_models() if m.vision]

    def by_vendor(self) -> dict[str, list[ModelInfo]]:
        """Offered chat models grouped by vendor, in catalog order."""
        groups: dict[str, list[ModelInfo]] = {}
        for model in self.chat_models():
            groups.setdefault(model.vendor, []).append(model)
        return groups

    def search(self, text: str, limit: int = 25) -> list[ModelInfo]:
        """Models matching ``text`` as you type: prefix, then substring, vendor too."""
        needle = text.strip().lower()
        models = self.chat_models()
        if not needle:
            return models[:limit]
        prefix = [m for m in models if m.name.lower().startswith(needle)]
        rest = [
            m for m in models
            if m not in prefix
            and (needle in m.name.lower() or needle in m.vendor.lower()
                 or any(needle in alias.lower() for alias in m.aliases))
        ]
        return (prefix + rest)[:limit]

    def __len__(self) -> int:
        return len(self._models)
