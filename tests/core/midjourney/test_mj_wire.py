"""Wire details: submit codes (and gateway rewrites), errors, buttons from customIds,
Telegram's em-dash, describe/shorten lines."""

from __future__ import annotations

import re

import pytest

from core.errors import AuthFailed, QuotaExceeded, RateLimited
from core.midjourney.buttons import (
    button_info,
    numbered_lines,
    restore_flags,
    shortened_prompts,
    take_speed,
)
from core.midjourney.client import mj_error, parse_submit
from core.midjourney.errors import (
    MjBannedPrompt,
    MjInvalid,
    MjNotFound,
    MjQueueFull,
    MjSystemFailure,
    MjUnavailable,
    MjUnsupportedButton,
)


@pytest.mark.parametrize(("body", "kind", "position"), [
    ({"code": 1, "description": "Submit success", "result": "7"}, "submitted", 0),
    ({"code": 22, "description": "排队中，前面还有3个任务", "result": "7"}, "queued", 3),
    ({"code": 1, "description": "排队中，前面还有3个任务", "result": "7"}, "queued", 3),
    ({"code": 1, "description": "In queue", "result": "7",
      "properties": {"numberOfQueues": 2}}, "queued", 2),
    ({"code": 21, "description": "Waiting for window confirm", "result": "8"}, "modal", 0),
    ({"code": 1, "description": "Waiting for window confirm", "result": "8"}, "modal", 0),
    ({"code": 1, "description": "Submit success", "result": "8",
      "properties": {"remix": True}}, "modal", 0),
    # open-proxy edition: 21 = "task already exists" with the finished task
    ({"code": 21, "description": "任务已存在", "result": "9",
      "properties": {"status": "SUCCESS"}}, "submitted", 0),
])
def test_submit_answers_and_their_gateway_rewrites(body: dict[str, object], kind: str,
                                                   position: int) -> None:
    result = parse_submit(body)
    assert (result.kind, result.position) == (kind, position)


@pytest.mark.parametrize(("body", "error"), [
    ({"code": 23, "description": "队列已满"}, MjQueueFull),
    ({"code": 24, "description": "敏感词", "properties": {"bannedWord": "x"}}, MjBannedPrompt),
    ({"code": 3, "description": "关联任务不存在"}, MjNotFound),
    ({"code": 4, "description": "prompt不能为空"}, MjInvalid),
    ({"code": 9, "description": "系统异常"}, MjSystemFailure),
    ({"code": 1, "description": "no id"}, MjSystemFailure),
    ("not json", MjSystemFailure),
])
def test_submit_refusals_are_typed(body: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_submit(body)


@pytest.mark.parametrize(("status", "body", "error"), [
    (400, {"description": "quota_not_enough ", "type": "upstream_error", "code": 4},
     QuotaExceeded),
    (400, {"description": "task_not_found ", "type": "upstream_error", "code": 4}, MjNotFound),
    (400, {"description": "task_no_found ", "type": "upstream_error", "code": 4}, MjNotFound),
    (400, {"description": "unknown_action:MJ::Job::PicReader::1 ", "type": "upstream_error",
           "code": 4}, MjUnsupportedButton),
    (400, {"description": "task_status_not_success ", "type": "upstream_error", "code": 4},
     MjInvalid),
    (404, {"description": "not found", "code": 3}, MjNotFound),
    (404, {"description": "task_not_found", "code": 4}, MjNotFound),
    (404, {"error": {"message": "Invalid URL (POST /mj/submit/imagine)"}}, MjUnavailable),
    (404, "<html><body><h1>404 Not Found</h1></body></html>", MjUnavailable),
    (404, "404 page not found", MjUnavailable),
    (429, {"error": {"message": "rate limited"}}, RateLimited),
    (401, {"error": {"message": "invalid token"}}, AuthFailed),
])
def test_gateway_errors_are_typed(status: int, body: object, error: type[Exception]) -> None:
    typed = mj_error(status, body, "gw-secret-key")
    assert isinstance(typed, error)
    assert isinstance(typed, MjUnavailable) == (error is MjUnavailable)


def test_an_error_never_shows_the_key() -> None:
    error = mj_error(400, {"description": "bad key gw-secret-key", "code": 4}, "gw-secret-key")
    assert "gw-secret-key" not in str(error) and "gw-secret-key" not in str(error.params)


@pytest.mark.parametrize(("custom_id", "icon", "label"), [
    ("MJ::JOB::upsample::3::abc", "", "U3"),
    ("MJ::JOB::variation::4::abc", "", "V4"),
    ("MJ::JOB::reroll::0::abc::SOLO", "🔄", ""),
    ("MJ::JOB::upsample_v6_2x_subtle::1::abc::SOLO", "⏫", "mj.btn.upscale_subtle"),
    ("MJ::JOB::upsample_v6_2x_creative::1::abc::SOLO", "⏫", "mj.btn.upscale_creative"),
    ("MJ::JOB::upsample_v5_4x::1::abc::SOLO", "⏫", "mj.btn.upscale_4x"),
    ("MJ::JOB::high_variation::1::abc::SOLO", "🪄", "mj.btn.vary_strong"),
    ("MJ::JOB::low_variation::1::abc::SOLO", "🪄", "mj.btn.vary_subtle"),
    ("MJ::JOB::variation::1::abc::SOLO", "🪄", "mj.btn.vary"),
    ("MJ::Inpaint::1::abc::SOLO", "🖌️", "mj.btn.vary_region"),
    ("MJ::Outpaint::50::1::abc::SOLO", "🔍", "mj.btn.zoom_out_2"),
    ("MJ::Outpaint::75::1::abc::SOLO", "🔍", "mj.btn.zoom_out_15"),
    ("MJ::CustomZoom::abc", "🔍", "mj.btn.custom_zoom"),
    ("MJ::CustomZoom::1::abc", "🔍", "mj.btn.custom_zoom"),
    ("MJ::JOB::pan_left::1::abc::SOLO", "⬅️", ""),
    ("MJ::JOB::pan_down::1::abc::SOLO", "⬇️", ""),
])
def test_buttons_are_shown_from_their_custom_id(custom_id: str, icon: str, label: str) -> None:
    info = button_info(custom_id)
    assert info is not None
    assert (info.icon, info.label or info.label_key) == (icon, label)


@pytest.mark.parametrize("custom_id", [
    "MJ::Job::PicReader::1", "MJ::Picread::Retry", "MJ::Job::PromptAnalyzer::2",
    "MJ::BOOKMARK::abc", "MJ::JOB::animate_high::1::abc::SOLO", "something else"])
def test_buttons_the_gateway_refuses_are_not_offered(custom_id: str) -> None:
    assert button_info(custom_id) is None


@pytest.mark.parametrize(("typed", "sent"), [
    ("a fox —ar 16:9", "a fox --ar 16:9"),
    ("a fox —niji 6", "a fox --niji 6"),
    ("a fox — v 6", "a fox --v 6"),
    ("a fox –stylize 250 —no trees", "a fox --stylize 250 --no trees"),
    ("a fox ——ar 2:3", "a fox --ar 2:3"),
    ("a fox — sitting on a mat", "a fox — sitting on a mat"),  # prose dash kept
    ("a fox --ar 16:9", "a fox --ar 16:9"),
])
def test_telegram_em_dashes_become_double_hyphens_before_flags(typed: str, sent: str) -> None:
    assert restore_flags(typed) == sent


def test_speed_flags_move_out_of_the_prompt() -> None:
    assert take_speed("a fox --relax --ar 1:1") == ("a fox --ar 1:1", "relax")
    assert take_speed("a fox") == ("a fox", "")


def test_numbered_lines_lose_their_emoji_number() -> None:
    text = "1\ufe0f\u20e3 a fox --ar 1:1\n\n2\ufe0f\u20e3 a cat\nnoise"
    assert numbered_lines(text) == ["a fox --ar 1:1", "a cat"]
    task = {"description": "**Shortened prompts**\n1\ufe0f\u20e3 fox\n2\ufe0f\u20e3 cat"}
    assert shortened_prompts(task) == ["fox", "cat"]


def test_every_midjourney_text_exists_in_english_and_chinese() -> None:
    from core.midjourney.texts import EN, ZH
    assert set(EN) == set(ZH)
    for key in EN:  # same placeholders in both languages
        assert sorted(re.findall(r"{(\w+)}", EN[key])) == sorted(re.findall(r"{(\w+)}", ZH[key]))
