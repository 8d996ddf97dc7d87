"""Every setting: an empty value means "not set"; any bad value is one line naming it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.discord.settings import DiscordSettings
from bots.registry import load_plugins
from bots.runner import configure
from core.config import AppSettings, SettingsError, load_settings, site_root


def test_an_empty_value_means_not_set_for_every_setting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AppSettings.model_fields:
        monkeypatch.setenv(name.upper(), "")
    settings = load_settings(_env_file=None)
    defaults = AppSettings.model_construct()
    for name in AppSettings.model_fields:
        assert getattr(settings, name) == getattr(defaults, name), name
    for plugin in load_plugins().values():  # the platforms' own settings too
        prefix = str(plugin.settings.model_config.get("env_prefix", ""))
        for name in plugin.settings.model_fields:
            monkeypatch.setenv((prefix + name).upper(), "")
        loaded = plugin.settings(_env_file=None)  # type: ignore[call-arg]
        assert loaded == plugin.settings.model_construct(), plugin.name


def test_an_empty_value_in_the_environment_does_not_hide_the_env_file(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DISCORD_DEV_GUILD_ID=42\nEXTRA_MODELS_FILE=\n", "utf-8")
    monkeypatch.setenv("DISCORD_DEV_GUILD_ID", "")
    settings = load_settings(_env_file=tmp_path / ".env")
    _, discord = configure(load_plugins(), _env_file=tmp_path / ".env")["discord"]
    assert isinstance(discord, DiscordSettings)
    assert discord.dev_guild_id == 42 and settings.extra_models_file is None


@pytest.mark.parametrize(("given", "root"), [
    ("https://api.gaiasc.com", "https://api.gaiasc.com"),
    ("https://api.gaiasc.com/", "https://api.gaiasc.com"),
    ("https://api.gaiasc.com/v1", "https://api.gaiasc.com"),
    ("https://api.gaiasc.com/v1/", "https://api.gaiasc.com"),
    ("http://gw.local:8080/proxy/V1", "http://gw.local:8080/proxy"),
    ("https://host/v10", "https://host/v10"),  # only a whole "/v1" segment goes
])
def test_gateway_url_is_stored_as_the_site_root(monkeypatch: pytest.MonkeyPatch,
                                                given: str, root: str) -> None:
    assert site_root(given) == root
    monkeypatch.setenv("GATEWAY_BASE_URL", given)
    settings = load_settings(_env_file=None)
    assert settings.gateway_base_url == root
    assert settings.gateway_api_base == root + "/v1"


def bad_values(tmp: Path) -> list[tuple[str, str]]:
    (tmp / "a-file").write_text("x", "utf-8")
    (tmp / "broken.json").write_text('{"models": [', "utf-8")
    (tmp / "no-list.json").write_text('{"models": 3}', "utf-8")
    (tmp / "no-name.json").write_text('{"models": [{"vendor": "X"}]}', "utf-8")
    (tmp / "bad-field.json").write_text('{"models": [{"name": "m", "colour": 1, '
                                        '"aliases": 5}]}', "utf-8")
    return [
        ("DISCORD_DEV_GUILD_ID", "my-server"), ("DISCORD_APPLICATION_ID", "1e5x"),
        ("MAX_INPUT_CHARS", "32k"), ("GATEWAY_MAX_RETRIES", "-1"), ("REQUEST_TIMEOUT", "0"),
        ("GATEWAY_STREAM_USAGE", "maybe"), ("TELEGRAM_WEBHOOK_PORT", "http"),
        ("BURST_WINDOW", "fast"), ("ADMIN_IDS", "[1,"),
        ("EXTRA_MODELS_FILE", "."), ("EXTRA_MODELS_FILE", str(tmp / "missing.json")),
        ("EXTRA_MODELS_FILE", str(tmp / "broken.json")),
        ("EXTRA_MODELS_FILE", str(tmp / "no-list.json")),
        ("EXTRA_MODELS_FILE", str(tmp / "no-name.json")),
        ("EXTRA_MODELS_FILE", str(tmp / "bad-field.json")),
        ("GATEWAY_BASE_URL", "api.gaiasc.com"), ("GATEWAY_BASE_URL", "https://"),
        ("GATEWAY_BASE_URL", "https://host:99999"), ("TELEGRAM_API_URL", "localhost:8081"),
        ("DISCORD_API_BASE", "discord.com/api"), ("DISCORD_GATEWAY_URL", "https://gw"),
        ("TELEGRAM_WEBHOOK_URL", "http://insecure.example"),
        ("TELEGRAM_WEBHOOK_PATH", "hook"), ("DEFAULT_LANGUAGE", "fr"),
        ("DATABASE_URL", "not a url"), ("DATABASE_URL", "mysql+aiomysql://u@h/db"),
        ("DATABASE_URL", "postgresql+asyncpg://u:p@h:port/db"),
        ("DATA_DIR", str(tmp / "a-file")), ("DATA_DIR", str(tmp / "a-file" / "sub")),
        ("LOG_LEVEL", "chatty"),
    ]


def test_every_bad_value_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    for name, value in bad_values(tmp_path):
        with monkeypatch.context() as env:
            env.setenv(name, value)
            with pytest.raises(SettingsError) as raised:
                load_settings(_env_file=None)
                configure(load_plugins(), _env_file=None)
        text = str(raised.value)
        assert text.startswith(f"invalid setting {name}:"), (name, value, text)
        assert "\n" not in text and len(text) < 400, text


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_data_dir_is_named(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    monkeypatch.setenv("DATA_DIR", str(locked / "data"))
    with pytest.raises(SettingsError, match=r"invalid setting DATA_DIR: .* not writable"):
        load_settings(_env_file=None)


def test_an_env_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes("DEFAULT_PERSONA=caf\u00e9\n".encode("latin-1"))
    with pytest.raises(SettingsError, match=r"^cannot read \.env: UnicodeDecodeError"):
        load_settings(_env_file=tmp_path / ".env")
