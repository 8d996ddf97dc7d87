"""Process tuning for long-running bots: keep the start-up heap out of the cyclic GC."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect once, then freeze every object that exists now (modules, pydantic schemas of
    the SDKs, the model catalog, ...) so that later collections skip them.

    Without it a full collection walks hundreds of thousands of long-lived objects and
    stalls the event loop: up to 315 ms per collection in the 200-chat Telegram benchmark,
    which every stream in flight feels at once. Call it after start-up, before serving.
    """
    gc.collect()
    gc.freeze()
