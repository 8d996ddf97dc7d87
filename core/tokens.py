"""Local token estimates (no tokenizer downloads).

Heuristic close to cl100k-style tokenizers: CJK characters count about one token
each, other text about one token per four characters, plus per-message overhead.
Accounting uses the gateway's reported ``usage``; these estimates size context windows
and stand in for usage the gateway did not report (a cancelled or cut stream, see
``core.metering``), marked ``estimated`` there.
"""

from __future__ import annotations

from typing import Any

MESSAGE_OVERHEAD = 4
IMAGE_TOKENS = 765


def _is_wide(char: str) -> bool:
    code = ord(char)
    return (
        0x3000 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF
        or code >= 0x20000
    )


def estimate_text_tokens(text: str) -> int:
    """Estimated tokens of ``text``."""
    if not text:
        return 0
    if text.isascii():
        return (len(text) + 3) // 4
    wide = sum(1 for char in text if _is_wide(char))
    narrow = len(text) - wide
    return wide + (narrow + 3) // 4


def estimate_message_tokens(message: dict[str, Any]) -> int:
    """Estimated tokens of one OpenAI-format message (text and image parts)."""
    content = message.get("content")
    total = MESSAGE_OVERHEAD
    if isinstance(content, str):
        total += estimate_text_tokens(content)
    elif isinstance(content, list):
        for part in content:
            if part.get("type") == "text":
                total += estimate_text_tokens(str(part.get("text", "")))
            else:
                total += IMAGE_TOKENS
    for call in message.get("tool_calls") or ():
        function = call.get("function", {})
        total += estimate_text_tokens(str(function.get("name", "")))
        total += estimate_text_tokens(str(function.get("arguments", "")))
    return total
