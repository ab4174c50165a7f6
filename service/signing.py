"""Signed, expiring tokens for personal links (a patient's privacy page, a facilitator's
answer): the token carries what it is for, whom it names and until when, signed with
QUOTE_SECRET_KEY, so nothing is stored and nothing can be changed without the key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime


class BadToken(ValueError):
    """Not a token we signed for this purpose (mangled, forged, or meant for something else)."""


@dataclass(frozen=True, slots=True)
class Signed:
    subject: str
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}\n{body}".encode(), hashlib.sha256).digest()
    return _b64(digest[:20])


def sign(*, secret: str, purpose: str, subject: str, expires_at: datetime) -> str:
    """A URL-safe token naming `subject` for `purpose` until `expires_at`."""
    body = _b64(json.dumps([subject, int(expires_at.timestamp())], separators=(",", ":")).encode())
    return f"{body}.{_mac(secret, purpose, body)}"


def unsign(token: str, *, secret: str, purpose: str) -> Signed:
    """What a token we signed says, expired or not (the caller decides what expiry means);
    BadToken for anything else."""
    body, _, mac = token.partition(".")
    # compare_digest raises TypeError on non-ASCII text; a signature we made is ASCII.
    if not (body and token.isascii()) or not hmac.compare_digest(mac, _mac(secret, purpose, body)):
        raise BadToken
    try:
        subject, expires = json.loads(_unb64(body))
        return Signed(subject=str(subject), expires_at=datetime.fromtimestamp(int(expires), UTC))
    except (ValueError, TypeError, OverflowError):
        raise BadToken from None
