"""Client of the OpenAI-compatible "all-model" gateway.

``GatewayClient`` (``client.py``) owns one pooled ``httpx2.AsyncClient`` and the
``openai.AsyncOpenAI`` SDK built on it; ``errors.py`` maps failures to
``core.errors``; ``retry.py`` holds the backoff policy.

Extending: further gateway APIs (images, audio, embeddings, moderations, the
Midjourney ``/mj/...`` routes) go in sibling modules (``images.py``, ``audio.py``,
``midjourney.py`` ...) taking a ``GatewayClient`` and using ``client.openai`` or
``client.http`` (site-root URLs via ``client.base_url``), plus
``errors.translate`` / ``errors.error_from_status`` for typed errors.
"""

from core.gateway.client import GatewayClient
from core.gateway.types import ChatChunk, ChatRequest, ChatResult, ToolCall

__all__ = ["ChatChunk", "ChatRequest", "ChatResult", "GatewayClient", "ToolCall"]
