"""The metering pipeline itself (any call kind) and catalog prices → cost."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from core.errors import UserInputError
from core.events import Usage
from core.metering import CallInfo, CallResult, Meter, Metering
from core.models import ModelCatalog, ModelInfo
from tests.core.conftest import ANN, PRIVATE

CATALOG = ModelCatalog.shipped()


class Recorder:
    def __init__(self, name: str, log: list[str], refuse: bool = False) -> None:
        self.name, self.log, self.refuse = name, log, refuse
        self.results: list[CallResult] = []

    async def before(self, call: CallInfo) -> None:
        self.log.append(f"{self.name}.before")
        if self.refuse:
            raise UserInputError("error.input_too_long", length=2, limit=1)

    async def after(self, call: CallInfo, result: CallResult) -> None:
        self.log.append(f"{self.name}.after")
        self.results.append(result)


def image_call(model: str = "dall-e-3") -> CallInfo:
    return CallInfo("image", model, PRIVATE, ANN, estimate=2, unit="images")


async def test_an_image_call_is_priced_per_image_through_the_generic_helper() -> None:
    log: list[str] = []
    ledger = Recorder("ledger", log)
    metering = Metering(CATALOG, [ledger])

    async def generate(meter: Meter) -> list[str]:
        log.append("gateway")
        meter.count(2, "images")
        return ["https://img/1", "https://img/2"]

    assert await metering.run(image_call(), generate) == ["https://img/1", "https://img/2"]
    assert log == ["ledger.before", "gateway", "ledger.after"]
    [result] = ledger.results
    assert (result.outcome, result.units, result.unit) == ("ok", 2, "images")
    assert result.cost == pytest.approx(2 * 0.04)  # dall-e-3: USD 0.04 per image
    assert result.usage == Usage()  # no tokens for an image call, nothing estimated


async def test_a_refusal_skips_the_call_and_every_after() -> None:
    log: list[str] = []
    first, quota, last = Recorder("first", log), Recorder("quota", log, True), Recorder("last", log)
    metering = Metering(CATALOG, [first, quota, last])

    async def generate(meter: Meter) -> None:
        log.append("gateway")

    with pytest.raises(UserInputError) as refused:
        await metering.run(image_call(), generate)
    assert refused.value.key == "error.input_too_long"
    assert log == ["first.before", "quota.before"]


async def test_a_failing_call_is_recorded_failed_and_its_error_propagates() -> None:
    log: list[str] = []
    ledger = Recorder("ledger", log)
    metering = Metering(CATALOG, [ledger])
    info = CallInfo("chat", "gpt-4", PRIVATE, ANN, prompt_tokens=100)
    with pytest.raises(RuntimeError, match="boom"):
        async with metering.call(info) as meter:
            meter.add_text("twelve chars")
            raise RuntimeError("boom")
    [result] = ledger.results
    assert result.outcome == "failed" and result.usage == Usage(100, 3, estimated=True)
    assert result.cost == pytest.approx(0.1 * 0.03 + 0.003 * 0.06)  # gpt-4 per-1K prices


async def test_a_broken_after_hook_is_logged_and_the_others_still_run(
        caplog: pytest.LogCaptureFixture) -> None:
    log: list[str] = []

    class Broken(Recorder):
        async def after(self, call: CallInfo, result: CallResult) -> None:
            raise RuntimeError("ledger database down")

    ledger = Recorder("ledger", log)
    metering = Metering(CATALOG, [Broken("broken", log), ledger])
    with caplog.at_level(logging.ERROR, logger="core.metering"):
        async with metering.call(image_call()) as meter:
            meter.count(1, "images")
    assert [r.outcome for r in ledger.results] == ["ok"]
    assert "Broken" in caplog.text and "ledger database down" in caplog.text


async def test_a_cancel_during_the_record_of_an_ok_call_arrives_after_it() -> None:
    writing, release = asyncio.Event(), asyncio.Event()
    results: list[CallResult] = []

    class SlowLedger:
        async def before(self, call: CallInfo) -> None:
            pass

        async def after(self, call: CallInfo, result: CallResult) -> None:
            writing.set()
            await release.wait()
            results.append(result)

    metering = Metering(CATALOG, [SlowLedger()])
    after_block = []

    async def turn() -> None:
        async with metering.call(image_call()) as meter:
            meter.count(1, "images")
        after_block.append("continued")  # must not run: the cancel is delivered

    task = asyncio.create_task(turn())
    await writing.wait()
    task.cancel()
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [r.outcome for r in results] == ["ok"] and after_block == []


def test_prices_have_explicit_units() -> None:
    gpt35 = CATALOG.info("gpt-3.5-turbo")  # USD 0.0005 / 0.0015 per 1K tokens
    assert gpt35.cost(Usage(2000, 1000)) == pytest.approx(2 * 0.0005 + 0.0015)
    assert CATALOG.info("whisper-1").cost(Usage(), 90, "seconds") == pytest.approx(0.009)
    assert CATALOG.info("tts-1").cost(Usage(), 2500, "characters") == pytest.approx(0.0375)
    assert CATALOG.info("text-embedding-3-small").cost(Usage(1000, 0)) == pytest.approx(2e-5)
    assert CATALOG.info("text-moderation-latest").cost(Usage(50, 0)) is None  # no token price
    assert CATALOG.info("text-moderation-latest").cost(Usage()) == 0.0  # free per call
    assert CATALOG.currency == "USD"


def test_unknown_prices_give_no_cost() -> None:
    assert CATALOG.info("some-new-model").cost(Usage(10, 10)) is None
    assert CATALOG.info("midjourney").cost(Usage(), 4, "images") is None
    half = ModelInfo("half", price_prompt=0.001)  # completion price unknown
    assert half.cost(Usage(1000, 0)) == pytest.approx(0.001)
    assert half.cost(Usage(1000, 5)) is None
    assert ModelInfo("free").cost(Usage()) is None  # nothing priced, nothing used


def test_older_catalog_files_with_price_in_and_out_still_load(tmp_path: Path) -> None:
    extra = tmp_path / "models.json"
    extra.write_text(json.dumps({"models": [
        {"name": "house-model", "kind": "chat", "price_in": 0.002, "price_out": 0.004}]}))
    model = ModelCatalog.shipped(extra).info("house-model")
    assert (model.price_prompt, model.price_completion) == (0.002, 0.004)
    assert model.cost(Usage(500, 500)) == pytest.approx(0.003)


async def test_usage_the_gateway_reported_is_kept_even_if_the_call_then_fails() -> None:
    ledger = Recorder("ledger", [])
    metering = Metering(CATALOG, [ledger])
    with pytest.raises(RuntimeError):
        async with metering.call(CallInfo("chat", "gpt-4", PRIVATE, ANN,
                                          prompt_tokens=999)) as meter:
            meter.add_text("answer")
            meter.report(Usage(40, 2))
            raise RuntimeError("the answer could not be parsed")
    assert [(r.outcome, r.usage) for r in ledger.results] == [("failed", Usage(40, 2))]


async def test_a_hook_added_during_a_call_joins_at_the_next_call() -> None:
    log: list[str] = []
    metering = Metering(CATALOG, [Recorder("ledger", log)])
    async with metering.call(image_call()):
        metering.add(Recorder("quota", log))
    async with metering.call(image_call()):
        pass
    assert log == ["ledger.before", "ledger.after",
                   "ledger.before", "quota.before", "ledger.after", "quota.after"]
