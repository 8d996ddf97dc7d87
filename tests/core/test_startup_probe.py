"""The start-up ``/v1/models`` call: wrong URL or key → SettingsError; outage → warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import core.probe
from core.app import ChatCore
from core.config import SettingsError
from tests.core.conftest import core_settings
from tests.fakes.gateway import HTML, NOT_FOUND_PAGE, FakeGateway
from tests.fakes.gateway_replies import Hang, HttpError


async def test_a_hanging_gateway_delays_start_up_only_until_the_probe_deadline(
        fake_gateway: FakeGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(core.probe, "PROBE_DEADLINE", 0.3)
    fake_gateway.models_fault = Hang(60)  # longer than request_timeout=5 s: deadline wins
    with caplog.at_level(logging.WARNING, "core.probe"):
        chat_core = await ChatCore.create(core_settings(fake_gateway, tmp_path / "p.db"))
    try:
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "no model list within 0.3 s" in warnings[0]
        assert len(fake_gateway.requests_to("/v1/models")) == 1
    finally:
        await chat_core.close()


@pytest.mark.parametrize(("fault", "variable"), [
    (HttpError(404, NOT_FOUND_PAGE, HTML), "GATEWAY_BASE_URL"),
    (HttpError(401, {"error": {"message": "bad key gw-secret-key"}}), "GATEWAY_API_KEY"),
])
async def test_wrong_url_or_key_raises_a_one_line_settings_error(
        fake_gateway: FakeGateway, tmp_path: Path, fault: HttpError, variable: str) -> None:
    fake_gateway.models_fault = fault
    with pytest.raises(SettingsError) as raised:
        await ChatCore.create(core_settings(fake_gateway, tmp_path / "p.db"))
    text = str(raised.value)
    assert text.startswith(f"invalid setting {variable}:") and "\n" not in text
    assert "gw-secret-key" not in text
