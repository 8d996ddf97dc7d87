"""Start-up as a new user does it: ``.env.example`` copied unchanged, both gateway URL
forms, and the one ``/v1/models`` probe that tells a wrong URL or key from an outage."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from tests.bots.processes import (
    ROOT,
    SETTING_PREFIXES,
    child_env,
    discord_echoes,
    run_bots,
    serving,
    telegram_echoes,
)
from tests.fakes.discord import FakeDiscord
from tests.fakes.gateway import HTML, NOT_FOUND_PAGE, FakeGateway
from tests.fakes.gateway_replies import Hang, HttpError, ServerError
from tests.fakes.telegram import FakeTelegram


async def test_env_example_unchanged_plus_key_and_tokens_serves_both_platforms(
        fake_gateway: FakeGateway, fake_telegram: FakeTelegram, fake_discord: FakeDiscord,
        tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")  # empty values stay in .env
    env = child_env({  # the key and tokens, and the fakes' addresses instead of the real ones
        "PYTHONPATH": str(ROOT), "GATEWAY_API_KEY": "gw-key",
        "GATEWAY_BASE_URL": fake_gateway.url + "/v1",
        "TELEGRAM_BOT_TOKEN": fake_telegram.token, "TELEGRAM_API_URL": fake_telegram.url,
        "DISCORD_BOT_TOKEN": fake_discord.token, "DISCORD_API_BASE": fake_discord.api_base,
        "DISCORD_GATEWAY_URL": fake_discord.gateway_url,
        "DISCORD_DEV_GUILD_ID": "",  # empty in the environment too: not set
    }, (*SETTING_PREFIXES, "DATA_", "EXTRA_", "LOG_"))
    async with serving(env, tmp_path) as ended:
        await telegram_echoes(fake_telegram, "hello from a fresh install")  # slow on busy CI
        await discord_echoes(fake_discord, "and on discord", timeout=30)
    log = ended.log
    assert ended.returncode == 0, log[-2000:]
    assert "Traceback" not in log
    assert len(fake_gateway.requests_to("/v1/models", "GET")) == 1  # the one start-up call
    assert fake_discord.synced_commands["global"]  # DISCORD_DEV_GUILD_ID= means global
    assert (tmp_path / "data" / "chatbridge.db").exists()  # DATABASE_URL of .env.example


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
async def test_gateway_url_as_site_root_or_openai_base(fake_gateway: FakeGateway,
                                                       tmp_path: Path, suffix: str) -> None:
    env = {"GATEWAY_BASE_URL": fake_gateway.url + suffix, "GATEWAY_API_KEY": "gw-key",
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", "BURST_WINDOW": "0",
           "PYTHONPATH": str(ROOT)}
    code, out, err = await run_bots(["console"], env, "hello\n", cwd=tmp_path)
    assert code == 0, err
    assert "echo: hello" in out
    assert [r.path for r in fake_gateway.requests] == ["/v1/models", "/v1/chat/completions"]


def probe_env(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"GATEWAY_BASE_URL": url, "GATEWAY_API_KEY": "gw-secret-key",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", "BURST_WINDOW": "0",
            "GATEWAY_MAX_RETRIES": "1", "GATEWAY_RETRY_BACKOFF": "0", "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": "123:not-used", "LOG_LEVEL": "WARNING", **extra}


@pytest.mark.parametrize(("fault", "variable"), [
    (HttpError(404, NOT_FOUND_PAGE, HTML), "GATEWAY_BASE_URL"),  # a web site, not a gateway
    (HttpError(200, NOT_FOUND_PAGE, HTML), "GATEWAY_BASE_URL"),  # a landing page for all
    (HttpError(200, {"hello": "world"}), "GATEWAY_BASE_URL"),    # JSON, but no model list
    (HttpError(401, {"error": {"message": "Invalid token"}}), "GATEWAY_API_KEY"),
    (HttpError(403, {"error": {"message": "quota used up"}}), "GATEWAY_API_KEY"),
])
async def test_a_wrong_url_or_key_stops_start_up_with_one_line(
        fake_gateway: FakeGateway, tmp_path: Path, fault: HttpError, variable: str) -> None:
    fake_gateway.models_fault = fault
    code, _, err = await run_bots([], probe_env(fake_gateway.url, tmp_path), cwd=tmp_path)
    assert code == 2, err
    assert err.strip().count("\n") == 0 and variable in err, err
    assert "Traceback" not in err and "gw-secret-key" not in err
    assert len(fake_gateway.requests_to("/v1/models")) == 1  # not retried


async def test_a_path_that_is_not_the_gateway_names_the_url(fake_gateway: FakeGateway,
                                                            tmp_path: Path) -> None:
    env = probe_env(fake_gateway.url + "/api/v1", tmp_path)  # fake answers 404 "no route"
    code, _, err = await run_bots(["console"], env, "hi\n", cwd=tmp_path)
    assert code == 2 and "GATEWAY_BASE_URL" in err and "/api/v1/models" in err, err
    assert err.strip().count("\n") == 0


@pytest.mark.parametrize("fault", [ServerError(502), Hang(30)])
async def test_a_gateway_outage_at_start_warns_and_keeps_serving(
        fake_gateway: FakeGateway, tmp_path: Path, fault: ServerError | Hang) -> None:
    fake_gateway.models_fault = fault
    env = probe_env(fake_gateway.url, tmp_path, REQUEST_TIMEOUT="0.5")
    code, out, err = await run_bots(["console"], env, "still there?\n", cwd=tmp_path)
    assert code == 0, err
    assert "echo: still there?" in out  # chat works although /v1/models failed
    assert err.count("gateway not reachable at start") == 1 and "Traceback" not in err
    assert len(fake_gateway.requests_to("/v1/models")) == 2  # the call and its one retry


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_closed_port_at_start_warns_and_answers_with_the_outage(
        tmp_path: Path) -> None:
    env = probe_env(f"http://127.0.0.1:{closed_port()}", tmp_path)  # connection refused
    code, out, err = await run_bots(["console"], env, "anyone?\n", cwd=tmp_path)
    assert code == 0, err
    assert "try again" in out  # the turn ran and told the user (timeout or unavailable)
    assert err.count("gateway not reachable at start") == 1 and "Traceback" not in err


@pytest.mark.parametrize(("name", "value"), [
    ("DISCORD_DEV_GUILD_ID", "my-guild"),
    ("EXTRA_MODELS_FILE", "."),  # a directory
    ("EXTRA_MODELS_FILE", "{tmp}/broken.json"),
    ("GATEWAY_BASE_URL", "api.gaiasc.com"),
    ("DATABASE_URL", "sqlite+aiosqlite:///{tmp}/a-file/db.sqlite"),  # fails only at open
])
async def test_a_bad_value_stops_python_m_bots_with_one_line(
        tmp_path: Path, name: str, value: str) -> None:
    (tmp_path / "a-file").write_text("x", "utf-8")
    (tmp_path / "broken.json").write_text('{"models": [', "utf-8")
    env = probe_env("http://127.0.0.1:9", tmp_path)
    env[name] = value.format(tmp=tmp_path)
    code, _, err = await run_bots([], env, cwd=tmp_path)
    assert code == 2, err
    assert err.startswith(f"chatbridge: invalid setting {name}:") and err.count("\n") == 1, err
