"""The start-up probe of the gateway: one ``/v1/models`` call that also checks settings."""

from __future__ import annotations

import asyncio
import logging

from core.config import SettingsError
from core.errors import AuthFailed, ChatbridgeError, NotAGateway
from core.gateway import GatewayClient
from core.models import ModelCatalog

log = logging.getLogger(__name__)

PROBE_DEADLINE = 20.0
"""Seconds the start-up probe (retries included) may take before serving anyway."""


async def probe_gateway(gateway: GatewayClient, catalog: ModelCatalog) -> None:
    """The start-up ``/v1/models`` call: fills the catalog and checks the settings.

    Raises ``SettingsError`` for a wrong URL (404, not a model list) or a refused key
    (401/403); other failures (unreachable, timeout, 5xx, no answer with retries
    within ``PROBE_DEADLINE`` seconds) log one warning.
    """
    try:
        async with asyncio.timeout(PROBE_DEADLINE):
            ids = await gateway.list_models()
    except TimeoutError:
        log.warning("gateway not reachable at start (no model list within %g s); "
                    "serving anyway, answers will fail until it is back", PROBE_DEADLINE)
        return
    except NotAGateway as exc:
        raise SettingsError(
            f"invalid setting GATEWAY_BASE_URL: {gateway.api_base}/models is not "
            f"an OpenAI-compatible model list ({exc})") from None
    except AuthFailed as exc:
        raise SettingsError(
            f"invalid setting GATEWAY_API_KEY: the gateway refused the key ({exc})") from None
    except ChatbridgeError as exc:
        log.warning("gateway not reachable at start (%s); serving anyway, answers will "
                    "fail until it is back", exc)
        return
    catalog.merge_live(ids)

