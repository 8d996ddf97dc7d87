"""Reading ``/image`` arguments: typed options plus trailing words of the prompt.

``/image a red fox dall-e-2 512x512 n:2`` — besides ``name:value`` options (parsed by
``core.commands.parser``), trailing bare words of the prompt that are a size
(``512x512``), a quality (``hd``/``standard``), a style (``vivid``/``natural``) or an
image model name are taken as options, so the prompt reads naturally. Only trailing
words are taken (a prompt made only of such words is empty: "tell me what to draw").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.conversation.inputs import ImageInput
from core.images.validation import QUALITIES, RULES, STYLES
from core.parts import Media

_SIZE = re.compile(r"^\d{2,5}[x×*]\d{2,5}$", re.IGNORECASE)
_N = re.compile(r"^(?:n[=:]|x)(\d{1,2})$", re.IGNORECASE)


def split_trailing(prompt: str, aliases: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """``(prompt without trailing option words, options found)``.

    ``aliases`` maps lower-cased model names/aliases to image model names (e.g.
    ``{"dalle": "dall-e-3"}``). Options: ``model``, ``size``, ``quality``, ``style``,
    ``n`` (``n=2``/``x2``); the first occurrence from the end wins."""
    words = prompt.split()
    found: dict[str, Any] = {}
    while words:
        word = words[-1].lower()
        name, value = _option(word, aliases)
        if name is None or name in found:
            break
        found[name] = value
        words.pop()
    return " ".join(words), found


def _option(word: str, aliases: Mapping[str, str]) -> tuple[str | None, Any]:
    if _SIZE.match(word):
        return "size", word
    if word in QUALITIES:
        return "quality", word
    if word in STYLES:
        return "style", word
    if word in aliases:
        return "model", aliases[word]
    matched = _N.match(word)
    if matched:
        return "n", int(matched.group(1))
    return None, None


def image_aliases(resolve: Any) -> dict[str, str]:
    """Names and aliases of the image models we drive, lower-cased → model name.

    ``resolve`` is ``ModelCatalog.get`` (name → ``ModelInfo | None``)."""
    out: dict[str, str] = {}
    for name in RULES:
        out[name] = name
        info = resolve(name)
        for alias in getattr(info, "aliases", ()) or ():
            out[str(alias).lower()] = name
    return out


def image_bytes(value: Any) -> bytes | None:
    """The bytes of an image argument (``ImageInput``, ``Media`` with data, bytes)."""
    if isinstance(value, ImageInput):
        return value.data
    if isinstance(value, Media) and value.data is not None:
        return value.data
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return None
