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
