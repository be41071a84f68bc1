"""Settings from the environment and an optional `.env`, validated once at start-up."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services.payments import Package, parse_packages

_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")
_LOG_LEVELS = {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}


class SettingsError(Exception):
    """A configuration problem, worded for the person who runs the bot (never holds a secret)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    bot_token: SecretStr
    runware_api_key: SecretStr
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    database_path: Path = Path("data/bot.sqlite3")
    database_url: SecretStr | None = None  # postgresql://...: PostgreSQL instead of the file
    redis_url: SecretStr | None = None  # redis://...: conversation state and order shared
    webhook_url: str | None = None  # https://public.host[/prefix]: webhook mode
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    webhook_listen: str = "0.0.0.0:8080"
    telegram_api_url: str | None = None
    runware_api_url: str = "https://api.runware.ai/v1"
    runware_schemas_url: str = "https://schemas.runware.ai"
    catalog_check_hours: float = Field(default=6.0, gt=0, le=24 * 7)
    runware_dry_run_check: bool = False
    log_level: str = "INFO"
    catalog_path: Path | None = Field(default=None)
    welcome_bonus: int = Field(default=0, ge=0, le=1_000_000)
    # the referrer's share of a referred user's first Stars purchase, in tokens
    referral_bonus_percent: int = Field(default=10, ge=0, le=100)
    # admins are told once when a model's margin over the last day falls below this
    min_margin_percent: float = Field(default=20.0, ge=-1000, le=100)
    max_tokens_per_operation: int = Field(default=100_000, ge=1, le=1_000_000_000)
    max_active_jobs_per_user: int = Field(default=4, ge=1, le=100)
    job_max_age_minutes: float = Field(default=30, gt=0, le=24 * 60)
    job_lease_seconds: float = Field(default=300, gt=0, le=3600)
    telegram_api_local: bool = False
    telegram_sends_per_second: int = Field(default=25, ge=1, le=1000)  # for the whole fleet
    # a broadcast sends only while the last second used less than this share of that budget
    broadcast_share_percent: int = Field(default=80, ge=10, le=100)
    poll_first_seconds: float = Field(default=5.0, gt=0, le=600)
    poll_max_seconds: float = Field(default=10.0, gt=0, le=600)
    runware_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    runware_max_attempts: int = Field(default=4, ge=1, le=20)
    probe_interval_seconds: float = Field(default=300.0, gt=0, le=86400)
    submit_retry_seconds: float = Field(default=10.0, gt=0, le=3600)
    delivery_attempts: int = Field(default=8, ge=1, le=50)
    delivery_retry_seconds: float = Field(default=5.0, gt=0, le=3600)
    result_ttl_hours: float = Field(default=72.0, ge=1, le=24 * 30)
    loop_lag_report: Path | None = None
    edit_concurrency: int = Field(default=1, ge=1, le=16)  # FFmpeg processes at once
    edit_trim_price: int = Field(default=0, ge=0, le=1_000_000)  # tokens
    edit_join_price: int = Field(default=5, ge=0, le=1_000_000)
    edit_time_limit_seconds: float = Field(default=300.0, gt=0, le=3600)
    video_cache_dir: Path | None = None  # default: "videos" beside the SQLite file
    video_cache_days: float = Field(default=7.0, ge=0, le=365)  # 0: no local copies
    translate_api_url: str | None = None
    translate_api_key: SecretStr | None = None
    token_packages: Annotated[tuple[Package, ...], NoDecode] = (
        Package(100, 50),
        Package(500, 225),
        Package(1500, 600),
    )

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN_RE.fullmatch(value.get_secret_value().strip()):
            raise ValueError("does not look like a bot token from @BotFather (digits:letters)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("runware_api_key")
    @classmethod
    def _key_present(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is empty")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            bad = [p for p in parts if not p.lstrip("-").isdigit()]
            if bad:
                raise ValueError(
                    f"expected comma-separated numeric Telegram user ids, got {bad[0]!r}"
                )
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("token_packages", mode="before")
    @classmethod
    def _packages(cls, value: Any) -> Any:
        return parse_packages(value) if isinstance(value, str) else value

    @field_validator(
        "telegram_api_url",
        "translate_api_url",
        "translate_api_key",
        "loop_lag_report",
        "catalog_path",
        "video_cache_dir",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("telegram_api_url", "runware_api_url", "translate_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _redis_url(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None or not str(value).strip():
            return None
        if not re.fullmatch(r"(rediss?|unix)://\S+", str(value).strip()):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return str(value).strip()

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _webhook_url(cls, value: Any) -> Any:
        if value is None or not str(value).strip():
            return None
        value = str(value).strip().rstrip("/")
        if not re.fullmatch(r"https://[^\s/:]+(:(443|80|88|8443))?(/\S*)?", value):
            raise ValueError(
                "must be the public https:// address Telegram reaches (ports 443, 80, 88 or 8443)"
            )
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        value = (value or "").strip()
        if not value:
            if info.data.get("webhook_url"):
                raise ValueError(
                    "is required with WEBHOOK_URL (e.g. the output of openssl rand -hex 32)"
                )
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value):
            raise ValueError("must be 16-256 letters, digits, _ or - (e.g. openssl rand -hex 32)")
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, colon, port = value.strip().rpartition(":")
        if not (host and colon) or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port, e.g. 0.0.0.0:8080")
        return value.strip()

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(sorted(_LOG_LEVELS))}")
        return level

    def secrets(self) -> list[str]:
        values = [
            self.bot_token,
            self.runware_api_key,
            self.translate_api_key,
            self.database_url,
            self.redis_url,
            self.webhook_secret,
        ]
        return [v.get_secret_value() for v in values if v is not None]


def _describe(error: ErrorDetails) -> str:
    name = str(error["loc"][0]).upper() if error.get("loc") else "settings"
    if error.get("type") == "missing":
        return f"{name} is not set"
    message = str(error.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ")
    # pydantic's own messages do not carry the input; ours never include secrets either.
    return f"{name}: {message}"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings or raise SettingsError with one line naming every bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors(include_input=False))
        raise SettingsError(f"Configuration error: {problems} (see .env.example)") from None


def log_level_number(settings: Settings) -> int:
    return int(logging.getLevelName(settings.log_level))
