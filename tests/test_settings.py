import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
KEY = "rw-secret-key-0123456789"


def settings(**env):
    base = {"bot_token": TOKEN, "runware_api_key": KEY, "_env_file": None}
    base.update(env)
    return load_settings(**base)


def test_defaults():
    s = settings()
    assert s.database_path == Path("data/bot.sqlite3")
    assert s.runware_api_url == "https://api.runware.ai/v1"
    assert s.telegram_api_url is None
    assert s.admin_ids == frozenset()
    assert s.log_level == "INFO"


def test_values_from_environment(monkeypatch):
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("RUNWARE_API_KEY", KEY)
    monkeypatch.setenv("ADMIN_IDS", " 12, 34 ,")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("DATABASE_PATH", "/tmp/x.sqlite3")
    s = load_settings(_env_file=None)
    assert s.admin_ids == {12, 34}
    assert s.telegram_api_url == "http://127.0.0.1:8081"
    assert s.log_level == "DEBUG"
    assert s.database_path == Path("/tmp/x.sqlite3")
    assert s.bot_token.get_secret_value() == TOKEN


def test_env_file(tmp_path):
    env = tmp_path / ".env"
    env.write_text(f"BOT_TOKEN={TOKEN}\nRUNWARE_API_KEY={KEY}\nADMIN_IDS=7\n")
    s = load_settings(_env_file=env)
    assert s.admin_ids == {7}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"bot_token": None}, "BOT_TOKEN is not set"),
        ({"runware_api_key": None}, "RUNWARE_API_KEY is not set"),
        ({"bot_token": "not-a-token"}, "BOT_TOKEN: does not look like a bot token"),
        ({"runware_api_key": "  "}, "RUNWARE_API_KEY: is empty"),
        ({"admin_ids": "12,abc"}, "ADMIN_IDS: expected comma-separated numeric"),
        ({"log_level": "LOUD"}, "LOG_LEVEL: must be one of"),
        ({"runware_api_url": "ftp://x"}, "RUNWARE_API_URL: must be an http"),
        ({"telegram_api_url": "localhost:8081"}, "TELEGRAM_API_URL: must be an http"),
        ({"webhook_url": "http://bot.example"}, "WEBHOOK_URL: must be the public https://"),
        ({"webhook_url": "https://bot.example:9000"}, "(ports 443, 80, 88 or 8443)"),
        ({"webhook_url": "https://bot.example"}, "WEBHOOK_SECRET: is required with WEBHOOK_URL"),
        ({"webhook_secret": "short"}, "WEBHOOK_SECRET: must be 16-256 letters"),
        ({"webhook_secret": "has spaces in it, sixteen+"}, "WEBHOOK_SECRET: must be 16-256"),
        ({"webhook_listen": "8080"}, "WEBHOOK_LISTEN: must be host:port"),
        ({"redis_url": "http://127.0.0.1:6379"}, "REDIS_URL: must be a redis://"),
    ],
)
def test_bad_values_name_the_variable(env, expected):
    kwargs = {"bot_token": TOKEN, "runware_api_key": KEY, "_env_file": None}
    kwargs.update(env)
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    with pytest.raises(SettingsError) as info:
        load_settings(**kwargs)
    text = str(info.value)
    assert expected in text
    assert "\n" not in text
    assert KEY not in text and TOKEN not in text


def run_bot(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k.upper()
        not in {"BOT_TOKEN", "RUNWARE_API_KEY", "ADMIN_IDS", "TELEGRAM_API_URL", "LOG_LEVEL"}
    }
    clean.update(env, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_without_token_prints_one_line(tmp_path):
    result = run_bot({"RUNWARE_API_KEY": KEY}, tmp_path)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == ["Configuration error: BOT_TOKEN is not set (see .env.example)"]


def test_malformed_secret_is_never_printed(tmp_path):
    bad_token = "oops-my-secret-token-value"
    result = run_bot({"BOT_TOKEN": bad_token, "RUNWARE_API_KEY": KEY, "ADMIN_IDS": "x"}, tmp_path)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert bad_token not in result.stderr + result.stdout
    assert KEY not in result.stderr + result.stdout
    assert "BOT_TOKEN" in result.stderr and "ADMIN_IDS" in result.stderr


def test_the_shipped_env_example_parses_with_blanks_meaning_off(tmp_path):
    example = (ROOT / ".env.example").read_text()
    example = example.replace("BOT_TOKEN=\n", f"BOT_TOKEN={TOKEN}\n")
    example = example.replace("RUNWARE_API_KEY=\n", f"RUNWARE_API_KEY={KEY}\n")
    env = tmp_path / ".env"
    env.write_text(example)
    s = load_settings(_env_file=env)
    assert s.loop_lag_report is None and s.telegram_api_url is None
    assert s.translate_api_url is None and s.translate_api_key is None
    assert s.admin_ids == frozenset() and s.catalog_path is None
