"""Cheap bot signals: for the HTML form a honeypot field and a render time signed with the
page's submission id; for the JSON API the same honeypot field.

A suspected bot is not refused (a false positive would lose a real patient): its lead is
stored with status `spam`, sends no mail, and stays visible to coordinators.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

HONEYPOT_FIELD = "website"


def _signature(secret: str, stamp: str, submission_id: str) -> str:
    message = f"form_ts:{stamp}:{submission_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:20]


def sign_render_time(*, secret: str, now: datetime, submission_id: str) -> str:
    """The page's render time, signed together with the page's `submission_id`: one page
    serves one submission, so a bot cannot fill many leads from one page's render time."""
    stamp = str(int(now.timestamp()))
    return f"{stamp}.{_signature(secret, stamp, submission_id)}"


def seconds_since_render(
    token: str | None, *, submission_id: str, secret: str, now: datetime
) -> float | None:
    """Seconds since the form was rendered, or None when the token is missing, forged, or
    was signed for another submission."""
    stamp, _, signature = (token or "").partition(".")
    if not stamp.isdigit() or not hmac.compare_digest(
        signature, _signature(secret, stamp, submission_id)
    ):
        return None
    return now.timestamp() - int(stamp)


def spam_reason(
    form: dict[str, str], *, secret: str, now: datetime, min_fill_seconds: float
) -> str | None:
    """The form's signals: the honeypot, then the signed render time and the time to fill."""
    if _filled(form.get(HONEYPOT_FIELD)):
        return "honeypot"
    elapsed = seconds_since_render(
        form.get("form_ts"), submission_id=form.get("submission_id", ""), secret=secret, now=now
    )
    if elapsed is None:
        return "render time missing or forged"
    if elapsed < min_fill_seconds:
        return "submitted too fast"
    return None


def api_spam_reason(payload: object) -> str | None:
    """The API's signal: the form's honeypot field, filled (a bot that copies the page's form
    fields into JSON). A program has no page, so no render time and no time to fill; what
    bounds it instead is the JSON-only, same-site-only API, the rate limit per address and
    the cap on confirmations per recipient."""
    if isinstance(payload, dict) and _filled(payload.get(HONEYPOT_FIELD)):
        return "honeypot"
    return None


def _filled(value: object) -> bool:
    return bool(value.strip()) if isinstance(value, str) else value not in (None, False)
