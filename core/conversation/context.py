"""Building the prompt: persona + history trimmed to the token budget + new input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.conversation.history import HistoryEntry
from core.conversation.inputs import UserMessage
from core.media import image_data_url
from core.tokens import estimate_message_tokens, estimate_text_tokens


def user_text_with_documents(message: UserMessage) -> str:
    """The user's text with attached documents inlined (what history stores)."""
    parts = [message.text.strip()] if message.text.strip() else []
    for document in message.documents:
        note = " (truncated)" if document.truncated else ""
        parts.append(f"--- {document.filename}{note} ---\n{document.text}")
    return "\n\n".join(parts)


def user_content(message: UserMessage) -> str | list[dict[str, Any]]:
    """OpenAI content for a new user message: text, or text + image parts."""
    text = user_text_with_documents(message)
    if not message.images:
        return text
    parts: list[dict[str, Any]] = [{"type": "text", "text": text or "?"}]
    for image in message.images:
        parts.append({"type": "image_url", "image_url": {"url": image_data_url(image)}})
    return parts


def fit_history(newest_first: Sequence[HistoryEntry], budget: int) -> list[HistoryEntry]:
    """The newest messages whose tokens fit ``budget``, oldest first, starting at a user turn."""
    used = 0
    count = 0
    for entry in newest_first:
        used += entry.cost
        if used > budget:
            break
        count += 1
    kept = list(newest_first[count - 1::-1]) if count else []
    start = 0
    while start < len(kept) and kept[start].stored.role != "user":
        start += 1
    return kept[start:]


def build_messages(
    persona: str, history: Sequence[HistoryEntry], new_messages: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """System prompt, then history, then the new messages."""
    messages: list[dict[str, Any]] = []
    if persona.strip():
        messages.append({"role": "system", "content": persona})
    messages.extend(entry.prompt for entry in history)
    messages.extend(new_messages)
    return messages


def fixed_cost(persona: str, new_messages: Sequence[dict[str, Any]]) -> int:
    """Tokens taken before any history: the persona and the new input."""
    cost = estimate_text_tokens(persona) + 4 if persona.strip() else 0
    return cost + sum(estimate_message_tokens(message) for message in new_messages)
