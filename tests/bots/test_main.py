"""``python -m bots`` as a user runs it: console chat, settings errors, no tokens."""

from __future__ import annotations

from pathlib import Path

from tests.bots.processes import ROOT, run_bots
from tests.fakes.gateway import FakeGateway


def gateway_env(fake: FakeGateway, db: Path) -> dict[str, str]:
    return {"GATEWAY_BASE_URL": fake.url, "GATEWAY_API_KEY": "gw-key",
            "DATABASE_URL": f"sqlite+aiosqlite:///{db}", "BURST_WINDOW": "0",
            "PYTHONPATH": str(ROOT)}


async def test_console_chats_from_piped_input_and_remembers(fake_gateway: FakeGateway,
                                                            tmp_path: Path) -> None:
    env = gateway_env(fake_gateway, tmp_path / "console.db")
    code, out, err = await run_bots(["console"], env, "hello there\n/model\n")
    assert code == 0, err
    assert "echo: hello there" in out
    assert "gpt-3.5-turbo" in out  # the /model command answered
    code, out, _ = await run_bots(["console"], env, "second visit\n")
    assert code == 0 and "echo: second visit" in out
    remembered = [m["content"] for m in fake_gateway.chat_requests()[-1]["messages"]]
    assert remembered == ["hello there", "echo: hello there", "second visit"]


async def test_console_shows_gateway_errors_in_plain_words(fake_gateway: FakeGateway,
                                                           tmp_path: Path) -> None:
    from tests.fakes.gateway_replies import unauthorized

    fake_gateway.script(unauthorized())
    env = gateway_env(fake_gateway, tmp_path / "e.db")
    code, out, _ = await run_bots(["console"], env, "hi\n")
    assert code == 0
    assert "API key was rejected" in out
    assert "gw-key" not in out


async def test_a_missing_api_key_stops_with_one_line(tmp_path: Path) -> None:
    code, _, err = await run_bots([], {"GATEWAY_API_KEY": ""}, cwd=tmp_path)
    assert code == 2
    assert err.strip().count("\n") == 0 and "GATEWAY_API_KEY" in err
    assert "Traceback" not in err


async def test_an_invalid_setting_names_the_variable(tmp_path: Path) -> None:
    code, _, err = await run_bots([], {"GATEWAY_API_KEY": "k", "REQUEST_TIMEOUT": "soon"},
                                  cwd=tmp_path)
    assert code == 2 and "REQUEST_TIMEOUT" in err and "Traceback" not in err


async def test_without_platform_tokens_it_says_what_to_set(tmp_path: Path) -> None:
    code, _, err = await run_bots([], {"GATEWAY_API_KEY": "k"}, cwd=tmp_path)
    assert code == 2
    assert "TELEGRAM_BOT_TOKEN" in err and "DISCORD_BOT_TOKEN" in err


async def test_discord_invite_url_from_the_token(tmp_path: Path) -> None:
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.signature-part"  # base64("123456789012345678")
    code, out, err = await run_bots(["discord-invite"], {"DISCORD_BOT_TOKEN": token},
                                    cwd=tmp_path)
    assert code == 0, err
    assert "client_id=123456789012345678" in out
    assert "applications.commands" in out
