"""A lead's timeline: the kinds of event, the one builder of event rows, and the sentence a
coordinator reads for each (the raw details stay available, folded away)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.leads.fields import language_name
from service.models import Base, LeadEvent


class EventKind(StrEnum):
    created = "created"
    routed = "routed"
    unrouted = "unrouted"
    email_sent = "email_sent"
    email_failed = "email_failed"
    email_retry = "email_retry"
    status_changed = "status_changed"
    note = "note"
    reassigned = "reassigned"
    responded = "responded"
    reminded = "reminded"
    overdue = "overdue"
    rerouted = "rerouted"
    follow_up = "follow_up"  # on the first request, when the patient asks again
    confirmation_withheld = "confirmation_withheld"
    privacy_downloaded = "privacy_downloaded"
    marketing_withdrawn = "marketing_withdrawn"
    erased = "erased"
    privacy_link_sent = "privacy_link_sent"


def event_row(
    *,
    lead_id: uuid.UUID,
    kind: EventKind,
    now: datetime,
    data: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """One timeline line, as a row to insert."""
    return {
        "lead_id": lead_id,
        "kind": kind,
        "actor": actor,
        "data": dict(data or {}),
        "created_at": now,
    }


def record(
    session: Session,
    *,
    lead_id: uuid.UUID,
    kind: EventKind,
    now: datetime,
    data: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> None:
    """Write one timeline line in the caller's transaction."""
    row = event_row(lead_id=lead_id, kind=kind, now=now, data=data, actor=actor)
    session.execute(insert(Base.metadata.tables["lead_events"]), row)


# What each email is, as a coordinator reads it. Kinds not listed are shown by their key.
EMAILS = {
    "facilitator_new_lead": "The request to the facilitator",
    "patient_confirmation": "The confirmation to the patient",
    "alert_unrouted": "The alert to the operator (no facilitator)",
    "alert_dead_email": "The alert to the operator (an email given up)",
    "privacy_link": "A fresh privacy link to the patient",
    "privacy_withdrawn": "The withdrawal notice to the facilitator",
    "privacy_erased": "The erasure confirmation to the patient",
    "facilitator_reminder": "The reminder to the facilitator",
}
_SENT = {
    "facilitator_new_lead": "Request sent to the facilitator",
    "patient_confirmation": "Confirmation sent to the patient",
    "alert_unrouted": "Operator alerted: no facilitator for this lead",
    "alert_dead_email": "Operator alerted: an email was given up",
    "facilitator_reminder": "Reminder sent to the facilitator",
    "privacy_link": "Fresh privacy link sent to the patient",
    "privacy_withdrawn": "Facilitator told the request was withdrawn and must be deleted",
    "privacy_erased": "Erasure confirmed to the patient",
}
_ERASED_BY = {
    "patient": "Erased at the patient's request, from their privacy page",
    "coordinator": "Erased by a coordinator",
    "retention": "Erased by the retention rule",
}
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}


@dataclass(frozen=True, slots=True)
class Line:
    """An event as the desk shows it: one sentence, an optional note, the raw details."""

    text: str
    note: str | None
    details: tuple[tuple[str, str], ...]


def describe(event: LeadEvent) -> Line:
    data: dict[str, Any] = dict(event.data or {})
    details = tuple((key, str(value)) for key, value in data.items())
    # A coordinator's note, or the note a facilitator left with their answer.
    note = data.get("text") if event.kind in (EventKind.note, EventKind.responded) else None
    return Line(text=_sentence(event.kind, data), note=note, details=details)


def _attempt(data: Mapping[str, Any]) -> str:
    attempt = data.get("attempt")
    if not isinstance(attempt, int):
        return ""
    return f" ({_ORDINALS.get(attempt, f'attempt {attempt}')}{' attempt' if attempt <= 5 else ''})"


def _email(data: Mapping[str, Any]) -> str:
    kind = str(data.get("email", ""))
    return EMAILS.get(kind, f"The email “{kind}”")


def _sentence(kind: str, data: Mapping[str, Any]) -> str:
    if kind == EventKind.created:
        channel = "the API" if data.get("source") == "api" else "the quote form"
        spam = f"; stored as spam ({data['spam']})" if data.get("spam") else ""
        return f"Request received through {channel}{spam}"
    if kind == EventKind.routed:
        return f"Routed to {data.get('facilitator_name') or data.get('facilitator')}: " + (
            _routing_reason(data)
        )
    if kind == EventKind.unrouted:
        return f"Not routed: {data.get('reason', 'no facilitator')}"
    if kind == EventKind.email_sent:
        kind_key = str(data.get("email", ""))
        sent = _SENT.get(kind_key, f"Email “{kind_key}” sent")
        return sent + _attempt(data)
    if kind == EventKind.email_failed:
        code = f" (server answered {data['code']})" if data.get("code") else ""
        if data.get("outcome") == "dead":
            return f"{_email(data)} was given up{code}{_attempt(data)}"
        when = str(data.get("next_attempt_at", ""))[11:16]
        again = f"; trying again at {when} UTC" if when else ""
        return f"{_email(data)} was not delivered{code}{_attempt(data)}{again}"
    if kind == EventKind.email_retry:
        return f"{_email(data)} was queued again by hand (it was {data.get('was', 'failed')})"
    if kind == EventKind.status_changed:
        return f"Status changed from “{data.get('from')}” to “{data.get('to')}”"
    if kind == EventKind.note:
        return "Note"
    if kind == EventKind.follow_up:
        return (
            f"Follow-up received: {data.get('reference')} (the same address asked again for the "
            "same treatment; it went to the same facilitator)"
        )
    if kind == EventKind.confirmation_withheld:
        return (
            "No confirmation was sent to the patient: this address already received "
            f"{data.get('sent')} confirmations in the last 24 hours (the limit is "
            f"{data.get('cap')} a day); the facilitator still has the request"
        )
    if kind == EventKind.reassigned:
        return f"Reassigned to {data.get('to_facilitator')}; the request was emailed to them"
    if kind == EventKind.privacy_downloaded:
        return "The patient downloaded their data from the privacy page"
    if kind == EventKind.marketing_withdrawn:
        return "The patient withdrew their consent to news by email"
    if kind == EventKind.privacy_link_sent:
        return "A fresh privacy link was emailed to the patient, who asked for one"
    if kind == EventKind.erased:
        return _erasure(data)
    if kind in _RESPONSE_KINDS:
        return _response_sentence(kind, data)
    return kind.replace("_", " ").capitalize()


def _erasure(data: Mapping[str, Any]) -> str:
    sentence = _ERASED_BY.get(str(data.get("by")), "Erased")
    if data.get("reason"):
        sentence += f": {data['reason']}"
    cancelled = data.get("emails_cancelled")
    if cancelled:
        sentence += f"; {cancelled} unsent email(s) cancelled"
    told = data.get("facilitators_told")
    if told:
        sentence += f"; asked to delete it: {', '.join(map(str, told))}"
    return sentence


_RESPONSE_KINDS = {EventKind.responded, EventKind.reminded, EventKind.overdue, EventKind.rerouted}


def _response_sentence(kind: str, data: Mapping[str, Any]) -> str:
    """The facilitator's answers through their link, and what their silence caused."""
    who = data.get("facilitator") or "the facilitator"
    if kind == EventKind.responded:
        action = data.get("action")
        if action == "contacted":
            return "Contacted the patient (answered through the personal link)"
        if action == "quoted":
            return f"Sent a quote{_price(data)} (answered through the personal link)"
        return f"Declined: “{data.get('reason_label') or data.get('reason')}”"
    if kind == EventKind.reminded:
        return (
            f"Reminder to {who}: no answer {data.get('hours')} hours after the request reached them"
        )
    if kind == EventKind.overdue:
        return f"Overdue: no answer from {who} within {data.get('hours')} hours"
    to = data.get("facilitator_name") or data.get("facilitator")
    previous = data.get("from_facilitator") or "the previous facilitator"
    if data.get("why") == "overdue":
        after = f"{previous} did not answer within {data.get('hours')} hours"
    else:
        after = f"{previous} declined"
    return f"Re-routed to {to} ({after}); the request was emailed to them: {_routing_reason(data)}"


def _price(data: Mapping[str, Any]) -> str:
    low, high, currency = data.get("price_min"), data.get("price_max"), data.get("currency")
    if low is None and high is None:
        return ""
    if low is not None and high is not None and low != high:
        amount = f"{low:,}\u2013{high:,}"  # an en dash
    else:
        amount = f"{low if low is not None else high:,}"
    return f": {currency} {amount}"


def _routing_reason(data: Mapping[str, Any]) -> str:
    if data.get("follow_up_of"):
        return f"a follow-up of {data['follow_up_of']}, so to the facilitator who has that request"
    if data.get("default"):
        return "no facilitator serves this treatment and destination, so the default one"
    language = data.get("language")
    if language is None or "language_match" not in data:
        return str(data.get("reason", ""))
    name = language_name(str(language))
    speaks = f"speaks {name}" if data["language_match"] else f"nobody speaks {name}"
    return f"{speaks}, fewest recent leads for its capacity"
