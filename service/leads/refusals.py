"""Why a quote submission did not become a normal lead, counted per process for `GET /metrics`
(every reason exported, at 0 until it happens). Validation and the rate limit are counted where
the request is answered (service/metrics.py); spam and the confirmation cap once the write that
stored such a lead commits, for the form and the API alike."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from prometheus_client import Counter

from service.db import Database


class Refusal(StrEnum):
    """Why a quote submission did not become a normal lead."""

    validation = "validation"  # 400 (form) or 422 (API): nothing stored
    spam = "spam"  # stored, as spam
    rate_limit = "rate_limit"  # 429: nothing stored
    cap = "cap"  # stored, but the patient was not sent another confirmation


# Set in the request's state by the rate limit (service/stores.py) on a form submit over it: the
# form answers 429 itself, with every value kept, rather than an error page that loses them.
RATE_LIMITED = "rate_limited"

SUBMITS_REFUSED = Counter(
    "quote_submits_refused",
    "Quote submissions that did not become a normal lead, by reason.",
    ["reason"],
)
for _reason in Refusal:
    SUBMITS_REFUSED.labels(_reason)  # every reason is exported, at 0 until it happens


def submit_refused(reason: Refusal) -> None:
    SUBMITS_REFUSED.labels(reason).inc()


def count_stored_refusals(database: Database) -> None:
    """Count spam and capped confirmations after the writes that announce them commit."""
    for reason in (Refusal.spam, Refusal.cap):
        database.on_commit(reason, _counter_of(reason))


def _counter_of(reason: Refusal) -> Callable[[], None]:
    def count() -> None:
        submit_refused(reason)

    return count
