"""Settings: env names are stable, every one is documented, errors name the variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bots.registry import load_plugins
from bots.runner import configure
from core.config import AppSettings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
STABLE_NAMES = {"GATEWAY_BASE_URL", "GATEWAY_API_KEY", "DEFAULT_MODEL", "DATABASE_URL",
                "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "DISCORD_BOT_TOKEN", "ADMIN_IDS",
                "LOG_LEVEL"}


def test_every_setting_is_documented_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text("utf-8")
    documented = set(re.findall(r"^([A-Z_]+)=", example, re.M))
    fields = {name.upper() for name in AppSettings.model_fields}
    for plugin in load_plugins().values():  # each platform's own class and env prefix
        prefix = str(plugin.settings.model_config.get("env_prefix", ""))
        fields |= {(prefix + name).upper() for name in plugin.settings.model_fields}
    assert documented == fields
    assert fields >= STABLE_NAMES
    for name in fields:  # each variable has a comment line right above its block
        assert re.search(rf"#[^\n]*\n(?:[A-Z_]+=[^\n]*\n)*{name}=", example), name


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_BASE_URL", "http://gw.local/")
    monkeypatch.setenv("ADMIN_IDS", "12, 34;56")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    settings = load_settings(_env_file=None)
    assert settings.gateway_base_url == "http://gw.local"
    assert settings.admin_ids == ["12", "34", "56"]
    _, telegram = configure(load_plugins(), _env_file=None)["telegram"]
    assert telegram.secret_values() == ["123:abc"] and telegram.enabled()
    assert "123:abc" not in repr(telegram)


@pytest.mark.parametrize(("name", "value"), [
    ("REQUEST_TIMEOUT", "soon"), ("LOG_LEVEL", "LOUD"), ("DATABASE_URL", "mysql://x"),
    ("GATEWAY_BASE_URL", "ftp://x"), ("TELEGRAM_WEBHOOK_PORT", "70000"),
])
def test_a_bad_value_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                     name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)
        configure(load_plugins(), _env_file=None)
    assert str(raised.value).startswith(f"invalid setting {name}:")
    assert "\n" not in str(raised.value)
