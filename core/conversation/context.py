"""Building the prompt: persona + history trimmed to the token budget + new input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.conversation.history import stored_cost
from core.conversation.inputs import UserMessage
from core.media import image_data_url
from core.storage import StoredMessage
from core.tokens import estimate_message_tokens, estimate_text_tokens

IMAGE_PLACEHOLDER = "[image]"


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


def history_message(stored: StoredMessage) -> dict[str, Any]:
    """A stored message in OpenAI format (images become a placeholder)."""
    content = stored.content
    if stored.media:
        images = sum(1 for ref in stored.media if ref.get("kind") == "image")
        content = " ".join([IMAGE_PLACEHOLDER] * images + ([content] if content else []))
    message: dict[str, Any] = {"role": stored.role, "content": content}
    if stored.tool_calls:
        message["tool_calls"] = stored.tool_calls
    if stored.tool_call_id:
        message["tool_call_id"] = stored.tool_call_id
    if stored.name and stored.role == "tool":
        message["name"] = stored.name
    return message


def fit_history(newest_first: Sequence[StoredMessage], budget: int) -> list[StoredMessage]:
    """The newest messages whose tokens fit ``budget``, oldest first, starting at a user turn."""
    kept: list[StoredMessage] = []
    used = 0
    for stored in newest_first:
        cost = stored_cost(stored)
        if used + cost > budget:
            break
        kept.append(stored)
        used += cost
    kept.reverse()
    while kept and kept[0].role != "user":
        kept.pop(0)
    return kept


def build_messages(
    persona: str, history: Sequence[StoredMessage], new_messages: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """System prompt, then history, then the new messages."""
    messages: list[dict[str, Any]] = []
    if persona.strip():
        messages.append({"role": "system", "content": persona})
    messages.extend(history_message(stored) for stored in history)
    messages.extend(new_messages)
    return messages


def fixed_cost(persona: str, new_messages: Sequence[dict[str, Any]]) -> int:
    """Tokens taken before any history: the persona and the new input."""
    cost = estimate_text_tokens(persona) + 4 if persona.strip() else 0
    return cost + sum(estimate_message_tokens(message) for message in new_messages)
