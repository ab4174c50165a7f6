"""Unsafe production settings are refused at start-up with a message saying what to set."""

import pytest
from pydantic import ValidationError

from service.settings import Settings


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="QUOTE_SECRET_KEY"):
        Settings(_env_file=None, env="production")  # type: ignore[call-arg]


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(_env_file=None, env="production", secret_key="short")  # type: ignore[call-arg]


def test_production_accepts_a_strong_secret() -> None:
    settings = Settings(_env_file=None, env="production", secret_key="k" * 48)  # type: ignore[call-arg]
    assert settings.csrf_config().cookie_secure


@pytest.mark.parametrize(
    ("value", "parsed"), [("10/minute", ("minute", 10)), ("0", None), ("3/second", ("second", 3))]
)
def test_rate_limit(value: str, parsed: object) -> None:
    assert Settings(_env_file=None, rate_limit=value).rate_limit_rule == parsed  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("rate_limit", "5/fortnight", "QUOTE_RATE_LIMIT looks like 10/minute"),
        ("rate_limit", "many/minute", "QUOTE_RATE_LIMIT looks like 10/minute"),
        ("metrics_allow", "10.0.0.0/8, intranet", "not 'intranet'"),
        ("default_facilitator_email", "desk@facilitator", "QUOTE_DEFAULT_FACILITATOR_EMAIL"),
        ("redis_namespace", "quote desk", "redis_namespace"),
    ],
)
def test_settings_that_cannot_work_are_refused_at_start_up(
    setting: str, value: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, **{setting: value})  # type: ignore[arg-type]


def test_production_refuses_a_short_metrics_token() -> None:
    with pytest.raises(ValidationError, match="QUOTE_METRICS_TOKEN"):
        Settings(_env_file=None, env="production", secret_key="k" * 48, metrics_token="metrics")  # type: ignore[call-arg]


def test_logs_are_json_in_production_unless_told() -> None:
    strong = {"secret_key": "k" * 48, "_env_file": None}
    assert Settings(env="production", **strong).json_logs  # type: ignore[arg-type]
    assert not Settings(env="production", log_format="text", **strong).json_logs  # type: ignore[arg-type]
    assert not Settings(**strong).json_logs  # type: ignore[arg-type]
    assert Settings(log_format="json", **strong).json_logs  # type: ignore[arg-type]
