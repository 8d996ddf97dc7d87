"""``GatewayClient``: chat over the official openai SDK on one shared httpx2 client."""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx2
import orjson
from openai import AsyncOpenAI, DefaultAioHttpClient, RequestOptions
from openai.types.chat import ChatCompletion

from core.config import site_root
from core.errors import GatewayError, NotAGateway, RateLimited, StreamCut, Unavailable
from core.gateway.errors import decoded_body, error_from_status, is_transient, translate
from core.gateway.images import (
    MAX_DOWNLOAD_BYTES,
    GeneratedImage,
    ImageRequest,
    RawImage,
    decode_b64,
    raw_images,
    sniff_mime,
)
from core.gateway.retry import Backoff
from core.gateway.sse import MalformedEvent, iter_chunks
from core.gateway.streaming import StreamAssembler, model_ids, result_from
from core.gateway.types import ChatChunk, ChatRequest, ChatResult

log = logging.getLogger(__name__)

_T = TypeVar("_T")

_NOT_URL_FAULTS = frozenset({401, 403, 408, 429})
"""Non-2xx answers below 500 of ``/v1/models`` that do not mean "wrong URL"."""

_AUTH: RequestOptions = {"security": {"bearer_auth": True}}

DEFAULT_LIMITS = httpx2.Limits(
    max_connections=512, max_keepalive_connections=128, keepalive_expiry=30.0
)
"""Pool limits of the shared client (hundreds of concurrent streams).

The shared client is the SDK's ``DefaultAioHttpClient``: an ``httpx2.AsyncClient`` on an
aiohttp transport, which the SDK recommends for concurrency.  httpcore2's pool re-checks
every pooled connection with a syscall on each request; with 64 busy streams that cost
more CPU than the rest of a turn (measured: ~200 → ~700 streams/s)."""


class GatewayClient:
    """Async client of an OpenAI-compatible gateway (``base_url`` is the site root).

    All traffic goes through one pooled ``httpx2.AsyncClient`` (``http``), also used
    by the SDK (``openai``, built with ``max_retries=0``: retries happen here, with
    ``Backoff`` honouring Retry-After).  Every failure surfaces as a typed
    ``core.errors.GatewayError``; the API key never appears in their messages.
    ``sleep`` waits between retries (seconds; tests inject a recorder).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        stream_usage: bool = True,
        http_client: httpx2.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = site_root(base_url)
        self._api_key = api_key
        self._max_retries = max_retries
        self._backoff = Backoff(base=backoff_base)
        self._sleep = sleep
        self._stream_usage = stream_usage
        self._owns_http = http_client is None
        timeouts = httpx2.Timeout(timeout, connect=min(timeout, 10.0))
        self._http = http_client or DefaultAioHttpClient(timeout=timeouts, limits=DEFAULT_LIMITS)
        self._openai = AsyncOpenAI(
            api_key=api_key,
            base_url=self.api_base,
            timeout=timeouts,  # the SDK sets it on every request it sends
            max_retries=0,
            http_client=self._http,
        )
        self._timeouts = timeouts
        self._chat_url = f"{self.api_base}/chat/completions"
        self._stream_headers = {
            **{k: v for k, v in self._openai.default_headers.items() if isinstance(v, str)},
            "Authorization": f"Bearer {api_key}",
        }

    @property
    def http(self) -> httpx2.AsyncClient:
        """The shared pooled HTTP client (for gateway routes the SDK lacks, e.g. ``/mj``)."""
        return self._http

    @property
    def openai(self) -> AsyncOpenAI:
        """The SDK client (``base_url + "/v1"``, no SDK-side retries)."""
        return self._openai

    @property
    def site_root(self) -> str:
        """The gateway's site root (``https://host``; ``/mj/...`` routes hang off it)."""
        return self.base_url

    @property
    def api_base(self) -> str:
        """The OpenAI-style base, ``site_root + "/v1"``."""
        return f"{self.base_url}/v1"

    async def list_models(self) -> list[str]:
        """Ids of the models the gateway offers (``GET /v1/models``), retried like chat.

        Redirects are followed.  Raises ``NotAGateway`` (a wrong URL) for a 404 (or
        another 4xx except 401/403/408/429) or a body that is not
        ``{"data": [{"id": ...}]}``; ``AuthFailed`` for 401/403; other typed
        ``GatewayError``s otherwise.
        """

        async def fetch() -> list[str]:
            response = await self._http.get(
                f"{self.api_base}/models", headers={"Authorization": f"Bearer {self._api_key}"})
            status = response.status_code
            if (status < 200 or 300 <= status < 500) and status not in _NOT_URL_FAULTS:
                raise NotAGateway(f"HTTP {status}")
            response.raise_for_status()  # 401/403, 429, 5xx: typed by _retrying
            return model_ids(response)

        return await self._retrying(fetch)

    async def chat(self, request: ChatRequest) -> ChatResult:
        """One non-streamed completion, retried on 429/5xx/timeouts/connection errors.

        A 200 body holding ``{"error": ...}`` raises its typed error (e.g. ``QuotaExceeded``)."""

        async def call() -> ChatResult:
            completion = await self._openai.post(
                "/chat/completions",
                body=self._body(request, stream=False),
                options=_AUTH,
                cast_to=ChatCompletion,
            )
            error = (completion.model_extra or {}).get("error")
            if error:
                raise error_from_status(None, {"error": error}, secret=self._api_key)
            return result_from(completion, request.model)

        return await self._retrying(call)

    async def generate_images(self, request: ImageRequest) -> list[GeneratedImage]:
        """``POST /v1/images/generations``; the images as bytes (URL results downloaded).

        Retried like chat on 429/5xx/timeouts; typed ``GatewayError``s otherwise (a 400
        for a bad size/n is ``BadRequest``)."""
        raw = await self._retrying(lambda: self._openai.images.generate(**request.params()))
        return await self._images(raw_images(raw))

    async def edit_image(self, request: ImageRequest, image: bytes,
                         mask: bytes | None = None) -> list[GeneratedImage]:
        """``POST /v1/images/edits`` (multipart): ``image`` (and ``mask``) are square
        RGBA PNG bytes (see ``core.images.prepare``)."""
        files: dict[str, Any] = {"image": ("image.png", image, "image/png")}
        if mask is not None:
            files["mask"] = ("mask.png", mask, "image/png")
        raw = await self._retrying(
            lambda: self._openai.images.edit(**files, **request.params()))
        return await self._images(raw_images(raw))

    async def variation_image(self, request: ImageRequest,
                              image: bytes) -> list[GeneratedImage]:
        """``POST /v1/images/variations`` (multipart; ``request.prompt`` is not sent)."""
        def send() -> Awaitable[object]:
            with warnings.catch_warnings():  # the SDK marks variations deprecated (dall-e-2)
                warnings.simplefilter("ignore", DeprecationWarning)
                return self._openai.images.create_variation(
                    image=("image.png", image, "image/png"), **request.params(prompt=False))

        raw = await self._retrying(send)
        return await self._images(raw_images(raw))

    async def download_image(self, url: str, max_bytes: int = MAX_DOWNLOAD_BYTES) -> bytes:
        """GET an image result URL (a signed gateway/CDN URL) on the shared client,
        without our API key (the URL may be another host). Retried like chat; a non-2xx
        answer or a body over ``max_bytes`` raises ``Unavailable`` (the URL is never
        put in the message: its signature is a secret)."""

        async def fetch() -> bytes:
            response = await self._http.get(url, follow_redirects=True)
            if response.status_code >= 500 or response.status_code == 429:
                response.raise_for_status()  # transient: typed and retried
            if not 200 <= response.status_code < 300:
                raise Unavailable(f"image download failed (HTTP {response.status_code})")
            if len(response.content) > max_bytes:
                raise Unavailable(f"image result over {max_bytes} bytes")
            return response.content

        return await self._retrying(fetch)

    async def _images(self, items: list[RawImage]) -> list[GeneratedImage]:
        out = []
        for item in items:
            data = decode_b64(item.b64) if item.b64 else await self.download_image(
                item.url or "")
            out.append(GeneratedImage(data, item.revised_prompt, sniff_mime(data)))
        return out

    async def stream_chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        """Stream an answer: a ``ChatChunk`` per text delta, then one final chunk.

        The final chunk carries ``finish_reason``, the assembled ``tool_calls`` and
        ``usage``.  Failures before the first text/tool-call delta are retried if
        transient; after it, transient failures raise ``StreamCut`` (other typed errors,
        e.g. ``QuotaExceeded``, pass through).  A body ending with neither ``[DONE]``
        nor a finish_reason raises ``StreamCut``; so does a malformed (non-JSON) chunk,
        wherever it occurs.  ``[DONE]`` without a finish_reason is a complete answer
        (finish ``"stop"``).  Failures after the finish_reason (e.g. a cut before the
        usage chunk) are ignored.  A 200 JSON ``chat.completion`` answering the stream
        request is used as the whole answer (never retried); a 200 JSON/SSE error
        object raises its typed error (see ``errors.py``, docs/GATEWAY_QUIRKS.md).

        Stopping early: wrap in ``contextlib.aclosing`` (or call ``aclose()``) so the
        HTTP response is released at once.
        """
        attempt = 0
        while True:
            assembler = StreamAssembler()
            try:
                async with aclosing(self._stream_once(request, assembler)) as chunks:
                    async for chunk in chunks:
                        yield chunk
                return
            except GatewayError as error:
                if assembler.started or not self._should_retry(error, attempt):
                    raise
                await self._sleep_before_retry(error, attempt)
            attempt += 1

    async def _stream_once(
        self, request: ChatRequest, assembler: StreamAssembler
    ) -> AsyncGenerator[ChatChunk, None]:
        try:
            response = await self._open_stream(request)
        except Exception as exc:
            raise self._typed(exc) from None
        try:
            async with aclosing(iter_chunks(response, secret=self._api_key)) as chunks:
                while True:
                    try:
                        data = await anext(chunks)
                    except StopAsyncIteration:
                        break
                    except GatewayError as error:  # an error event sent by the gateway
                        raise self._stream_failure(error, assembler) from None
                    except Exception as exc:
                        if assembler.finish_reason is not None:
                            log.debug("stream failed after finish_reason: %s", type(exc).__name__)
                            break
                        raise self._stream_failure(exc, assembler) from None
                    if data is None:  # [DONE], or a whole JSON completion
                        assembler.done = True
                        continue
                    text = assembler.feed(data)
                    if text:
                        yield ChatChunk(text=text)
        finally:
            await response.aclose()  # also on early exit and cancellation
        yield assembler.final_chunk()

    async def _open_stream(self, request: ChatRequest) -> httpx2.Response:
        """POST a streaming chat request; the un-read 200 response (``sse.py`` parses it).

        Sent on the shared pooled client with the SDK's own headers (``default_headers``
        plus the bearer key), not through ``AsyncOpenAI.post``: the SDK's per-request
        option building (pydantic ``FinalRequestOptions``, header merging, URL copies)
        cost ~0.8 ms CPU per turn, a quarter of the core's budget for 300 turns/s
        (bench/core_turns.py: 1.4-1.6 ms per request through ``post`` vs 0.7 ms direct;
        docs/GATEWAY_QUIRKS.md). The body is encoded with orjson (UTF-8, no ``\\u``
        escapes): for a 1,000-message context 0.08 ms vs 1.0 ms with ``json.dumps``,
        which alone broke the overhead p99 target (bench/core_turns.py). Raises httpx2
        transport errors as is and a typed ``GatewayError`` for a status >= 400
        (``error_from_status``, key redacted).
        """
        http_request = self._http.build_request(
            "POST", self._chat_url, headers=self._stream_headers, timeout=self._timeouts,
            content=_encode(self._body(request, stream=True)))
        response = await self._http.send(http_request, stream=True)
        if response.status_code >= 400:
            try:
                await response.aread()
            finally:
                await response.aclose()
            raise error_from_status(response.status_code, decoded_body(response),
                                    response.headers, secret=self._api_key)
        return response

    def _stream_failure(self, exc: Exception, assembler: StreamAssembler) -> GatewayError:
        if isinstance(exc, MalformedEvent):
            return StreamCut(f"malformed stream chunk after {assembler.text_length} chars")
        error = self._typed(exc)
        if assembler.started and is_transient(error):
            return StreamCut(
                f"stream cut after {assembler.text_length} chars ({type(error).__name__})"
            )
        return error

    async def _retrying(self, call: Callable[[], Awaitable[_T]]) -> _T:
        attempt = 0
        while True:
            try:
                return await call()
            except Exception as exc:
                error = self._typed(exc)
                if not self._should_retry(error, attempt):
                    raise error from None
                await self._sleep_before_retry(error, attempt)
            attempt += 1

    def _should_retry(self, error: GatewayError, attempt: int) -> bool:
        return attempt < self._max_retries and is_transient(error)

    async def _sleep_before_retry(self, error: GatewayError, attempt: int) -> None:
        retry_after = error.retry_after if isinstance(error, RateLimited) else None
        delay = self._backoff.delay(attempt, retry_after)
        log.info(
            "gateway %s; retry %d/%d in %.2fs",
            type(error).__name__, attempt + 1, self._max_retries, delay,
        )
        await self._sleep(delay)

    def _typed(self, exc: Exception) -> GatewayError:
        error = translate(exc, secret=self._api_key)
        if error is None:
            raise exc
        return error

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, object]:
        # Posted as is: the SDK's typed ``create`` deep-walks every message to
        # "transform" it, which costs O(history) CPU per turn (~0.4 ms per message);
        # our messages are plain OpenAI JSON already.
        body: dict[str, object] = {"model": request.model, "messages": request.messages}
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            body["max_tokens"] = request.max_tokens
        if request.tools:
            body["tools"] = request.tools
        if stream:
            body["stream"] = True
            if self._stream_usage:
                body["stream_options"] = {"include_usage": True}
        return body

    async def aclose(self) -> None:
        """Close the shared HTTP client (unless it was supplied by the caller)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _encode(body: dict[str, Any]) -> bytes:
    """JSON bytes of a request body: orjson, or ``json`` (``\\ud800`` escapes) for the
    rare body orjson refuses (a lone surrogate, e.g. in tool-call arguments)."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body).encode()
