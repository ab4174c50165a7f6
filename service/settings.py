"""Settings from the environment (prefix QUOTE_), and the config objects built from them.

Unsafe production configuration is refused here, at start-up, with a message saying what to set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email
from litestar.config.csrf import CSRFConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "development-only-secret-key-change-me"  # noqa: S105 - refused in production below


class Env(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUOTE_", env_file=".env", extra="ignore")

    env: Env = Env.development
    database_url: str = f"sqlite+aiosqlite:///{ROOT / 'var' / 'quote-desk.db'}"
    secret_key: str = DEV_SECRET
    public_base_url: str = "http://127.0.0.1:8000"

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout: float = 30.0
    mail_from: str = "Quote Desk <quotes@localhost>"
    default_facilitator_email: str | None = None
    alert_email: str | None = None
    mailer_enabled: bool = True
    # Delays before each new try of an email that failed for a passing reason (4xx, timeout,
    # connection); the last one repeats until `mail_max_attempts`, then the email is dead.
    mail_retry_schedule: str = "1m,5m,15m,1h,3h,6h,12h,24h"
    mail_retry_jitter: float = Field(default=0.2, ge=0, lt=1)
    mail_max_attempts: int = Field(default=9, ge=1)
    mail_poll_seconds: float = Field(default=5.0, gt=0)
    mail_lease_seconds: float = Field(default=300.0, gt=0)
    mail_batch_size: int = Field(default=20, ge=1)
    dev_smtp_port: int = 8025
    # How often the scheduler looks for due work (reminders, deadlines, digests, retention).
    schedule_poll_seconds: float = Field(default=30.0, gt=0)

    rate_limit: str = "10/minute"
    # Pages on these sites may call the quotes API from a browser (CORS); any other site's
    # pages are refused. Comma list of origins (scheme://host[:port]).
    api_allowed_origins: str = ""
    trusted_proxies: str = "127.0.0.1"
    min_fill_seconds: float = 2.0
    # Patient confirmations one address receives in 24 hours; later leads are stored and sent
    # to their facilitator, but the patient is not mailed again (the desk says why).
    confirmations_per_address_per_day: int = Field(default=3, ge=1)
    redis_url: str | None = None
    # Prefix of every key in Redis: two deployments (or a test run) can share one server.
    redis_namespace: str = Field(default="quote-desk", pattern=r"^[A-Za-z0-9_.-]{1,64}$")

    # "auto": one JSON object per line in production, readable lines otherwise.
    log_format: Literal["auto", "text", "json"] = "auto"
    # GET /metrics answers a request with this Bearer token, or from an address in the list.
    metrics_token: str | None = None
    metrics_allow: str = ""
    # /readyz is not ready once the mail worker has been silent this long (0: never).
    worker_silent_seconds: float = Field(default=300, ge=0)

    templates_dir: Path = ROOT / "templates"
    static_dir: Path = ROOT / "static"
    var_dir: Path = ROOT / "var"
    # The promise: the patient hears from a facilitator within this many hours. Each facilitator
    # who gets a lead is reminded at half this time and is overdue at the end of it.
    response_hours: int = Field(default=48, ge=1, le=24 * 365)
    # A facilitator's personal link to answer (/respond/...) works for this many days.
    respond_link_days: int = Field(default=30, ge=1, le=3650)
    # An overdue lead goes to the next facilitator, as if the silent one had declined it.
    reroute_overdue: bool = False

    # Privacy: who answers for the data (the notice names them), how long a patient's personal
    # link works, how often a fresh one can be asked for, and how long leads are kept (the
    # daily purge is off unless QUOTE_RETENTION_DAYS is set).
    controller_name: str = "Medical Tourism Magazine"
    controller_address: str | None = None
    privacy_email: str | None = None
    privacy_link_days: int = Field(default=90, ge=1, le=36_500)
    privacy_link_requests_per_hour: int = Field(default=5, ge=1)
    retention_days: int | None = Field(default=None, ge=1, le=36_500)
    retention_unclosed_days: int = Field(default=365, ge=1, le=36_500)

    desk_idle_minutes: int = Field(default=60, ge=1)
    desk_counts_seconds: float = Field(default=15, ge=0)
    sign_in_max_failures: int = Field(default=5, ge=1)
    sign_in_window_minutes: int = Field(default=15, ge=1)
    sign_in_max_delay_seconds: float = Field(default=8, ge=0)

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env is Env.production:
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "QUOTE_SECRET_KEY must be set to a random value of at least 32 characters "
                    "in production (for example: python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))')"
                )
            if self.database_url.startswith("sqlite") and ":memory:" in self.database_url:
                raise ValueError(
                    "QUOTE_DATABASE_URL must point at a durable database in production"
                )
            if self.metrics_token is not None and len(self.metrics_token) < 24:
                raise ValueError(
                    "QUOTE_METRICS_TOKEN must be a random value of at least 24 characters "
                    "in production"
                )
        return self

    @field_validator("default_facilitator_email")
    @classmethod
    def _facilitator_address(cls, value: str | None) -> str | None:
        # Checked as the facilitator it becomes is: refused here, not by every submit (a 500).
        if value:
            try:
                validate_email(value.strip(), check_deliverability=False)
            except EmailNotValidError as exc:
                raise ValueError(
                    f"QUOTE_DEFAULT_FACILITATOR_EMAIL is not a usable address: {exc}"
                ) from None
        return value

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("mail_retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_durations(value)
        return value

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)
        return value

    @field_validator("api_allowed_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        parse_origins(value)
        return value

    @property
    def api_origins(self) -> frozenset[str]:
        return parse_origins(self.api_allowed_origins)

    @property
    def rate_limit_rule(self) -> tuple[str, int] | None:
        """`10/minute` -> ("minute", 10); `0` disables."""
        return parse_rate_limit(self.rate_limit)

    @property
    def metrics_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return parse_networks(self.metrics_allow)

    @property
    def json_logs(self) -> bool:
        if self.log_format == "auto":
            return self.env is Env.production
        return self.log_format == "json"

    @property
    def mail_retry_delays(self) -> tuple[timedelta, ...]:
        return parse_durations(self.mail_retry_schedule)

    @property
    def privacy_notice_url(self) -> str:
        """The privacy notice, linked from every email's footer."""
        return f"{self.public_base_url.rstrip('/')}/privacy"

    @property
    def mail_templates_dir(self) -> Path:
        return self.templates_dir / "emails"

    def csrf_config(self) -> CSRFConfig:
        return CSRFConfig(
            secret=self.secret_key,
            cookie_name="quote_csrf",
            cookie_secure=self.env is Env.production,
            cookie_samesite="lax",
            cookie_httponly=True,
            header_name="x-csrf-token",
            exclude=["/api/"],
        )

    @property
    def response_time(self) -> timedelta:
        return timedelta(hours=self.response_hours)

    def sign_in_window(self) -> timedelta:
        return timedelta(minutes=self.sign_in_window_minutes)

    def template_config(
        self, *, filters: Mapping[str, Callable[..., Any]] | None = None
    ) -> TemplateConfig[JinjaTemplateEngine]:
        def register(engine: JinjaTemplateEngine) -> None:
            engine.engine.filters.update(filters or {})

        return TemplateConfig(
            directory=self.templates_dir, engine=JinjaTemplateEngine, engine_callback=register
        )


_ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:\d{1,5})?")


def parse_origins(value: str) -> frozenset[str]:
    """`https://partner.example/, http://localhost:3000` -> the two origins, lower-case."""
    origins = set()
    for item in value.split(","):
        origin = item.strip().rstrip("/").lower()
        if not origin:
            continue
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(
                "QUOTE_API_ALLOWED_ORIGINS lists origins such as https://partner.example "
                f"(scheme and host, no path and no '*': each site is named), not {item.strip()!r}"
            )
        origins.add(origin)
    return frozenset(origins)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_durations(value: str) -> tuple[timedelta, ...]:
    """`1m,5m,1h` -> (1 minute, 5 minutes, 1 hour); units s, m, h, d."""
    delays = []
    for item in value.split(","):
        item = item.strip().lower()
        if not item or item[-1] not in _UNITS or not item[:-1].isdigit():
            raise ValueError(
                f"QUOTE_MAIL_RETRY_SCHEDULE items look like 30s, 5m, 1h or 1d, not {item!r}"
            )
        delays.append(timedelta(seconds=int(item[:-1]) * _UNITS[item[-1]]))
    return tuple(delays)


def parse_rate_limit(value: str) -> tuple[str, int] | None:
    if value.strip() in ("", "0"):
        return None
    count, _, unit = value.partition("/")
    unit = unit.strip() or "minute"
    if unit not in ("second", "minute", "hour", "day") or not count.strip().isdigit():
        raise ValueError(
            f"QUOTE_RATE_LIMIT looks like 10/minute (second, minute, hour or day), not {value!r}"
        )
    return unit, int(count)


def parse_networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """`127.0.0.1, 10.0.0.0/8` -> the networks; an address alone is a network of one."""
    networks = []
    for item in value.split(","):
        if item := item.strip():
            try:
                networks.append(ip_network(item, strict=False))
            except ValueError:
                raise ValueError(
                    f"QUOTE_METRICS_ALLOW lists IP addresses or networks (10.0.0.0/8), not {item!r}"
                ) from None
    return tuple(networks)
