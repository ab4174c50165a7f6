"""Cheap bot signals for the HTML form: a honeypot field and a signed render time.

A suspected bot is not refused (a false positive would lose a real patient): its lead is
stored with status `spam`, sends no mail, and stays visible to coordinators.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

HONEYPOT_FIELD = "website"


def _signature(secret: str, stamp: str) -> str:
    return hmac.new(secret.encode(), f"form_ts:{stamp}".encode(), hashlib.sha256).hexdigest()[:20]


def sign_render_time(*, secret: str, now: datetime) -> str:
    stamp = str(int(now.timestamp()))
    return f"{stamp}.{_signature(secret, stamp)}"


def seconds_since_render(token: str | None, *, secret: str, now: datetime) -> float | None:
    """Seconds since the form was rendered, or None when the token is missing or forged."""
    stamp, _, signature = (token or "").partition(".")
    if not stamp.isdigit() or not hmac.compare_digest(signature, _signature(secret, stamp)):
        return None
    return now.timestamp() - int(stamp)


def spam_reason(
    form: dict[str, str], *, secret: str, now: datetime, min_fill_seconds: float
) -> str | None:
    if form.get(HONEYPOT_FIELD, "").strip():
        return "honeypot"
    elapsed = seconds_since_render(form.get("form_ts"), secret=secret, now=now)
    if elapsed is None:
        return "render time missing or forged"
    if elapsed < min_fill_seconds:
        return "submitted too fast"
    return None
