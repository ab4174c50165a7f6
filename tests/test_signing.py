"""Personal links: what a token says, that it expires, and that nothing else passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.signing import BadToken, sign, unsign

SECRET = "s" * 40
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_a_token_names_its_subject_until_it_expires() -> None:
    token = sign(secret=SECRET, purpose="privacy", subject="lead-1", expires_at=NOW + timedelta(1))
    signed = unsign(token, secret=SECRET, purpose="privacy")
    assert signed.subject == "lead-1"
    assert not signed.expired(NOW) and signed.expired(NOW + timedelta(days=1))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
        lambda t: "x" + t[1:],  # the body
        lambda t: t.split(".")[0],  # no signature
        lambda t: "",
        lambda t: "\x00." + t,
        lambda t: t[:-1] + "é",  # a non-ASCII signature
        lambda t: t.split(".")[0] + ".\udcff",  # a lone surrogate, as bad UTF-8 decodes
        lambda t: "\udcff" + t,
    ],
)
def test_a_changed_token_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    token = sign(secret=SECRET, purpose="privacy", subject="lead-1", expires_at=NOW)
    with pytest.raises(BadToken):
        unsign(tamper(token), secret=SECRET, purpose="privacy")


def test_a_token_for_one_purpose_or_key_opens_nothing_else() -> None:
    token = sign(secret=SECRET, purpose="privacy", subject="lead-1", expires_at=NOW)
    with pytest.raises(BadToken):
        unsign(token, secret=SECRET, purpose="respond")
    with pytest.raises(BadToken):
        unsign(token, secret="t" * 40, purpose="privacy")
