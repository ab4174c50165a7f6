"""Which emails a lead causes and what they say: the request to its facilitator (with their
personal link to answer) and the reminder when they have not, the patient's confirmation, the
operator's alert when nobody serves it; and what the lead's timeline records when the mail
worker settles one of them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, inspect, select
from sqlalchemy.orm import Session

from service.content.documents import legal_texts
from service.db import announce
from service.languages import LANGUAGES
from service.leads.assignments import respond_url
from service.leads.fields import country_name, fields_of, shown
from service.leads.privacy import AFTER_ERASURE, ERASED, forget_settled, privacy_link
from service.leads.refusals import Refusal
from service.leads.routing import DEFAULT_FACILITATOR_NAME, RoutingDecision
from service.leads.timeline import EventKind, record
from service.leads.translations import PATIENT_CONFIRMATION
from service.mail.alerts import operator_alert
from service.mail.outbox import OutboxStatus, enqueue
from service.mail.render import Email, mailbox, render
from service.mail.worker import MailEvents, Outcome
from service.models import Consent, Facilitator, Lead, LegalText, OutboxMessage
from service.settings import Settings

FACILITATOR_NEW_LEAD = "facilitator_new_lead"
FACILITATOR_REMINDER = "facilitator_reminder"
PATIENT_CONFIRMATION_KIND = "patient_confirmation"
ALERT_UNROUTED = "alert_unrouted"
# QUOTE_CONFIRMATIONS_PER_ADDRESS_PER_DAY counts over the last day, not the calendar's.
CONFIRMATION_DAY = timedelta(hours=24)


def desk_url(settings: Settings, lead: Lead) -> str:
    return f"{settings.public_base_url.rstrip('/')}/desk/leads/{lead.id}"


def first_name(lead: Lead) -> str:
    parts = lead.full_name.split()
    return parts[0] if parts else lead.full_name


def _or(value: str | None, fallback: str) -> str:
    return value if value else fallback


def request_context(*, session: Session, lead: Lead, settings: Settings) -> dict[str, Any]:
    """The request as the facilitator sees it: in their email, and on their answer page."""
    request_rows = [
        (f.label, shown(lead, f.name))
        for f in (fields_of("record")[0], *fields_of("request"))
        if f.name != "medical_summary"
    ]
    source_rows = [(f.label, shown(lead, f.name)) for f in fields_of("source")]
    first = session.get(Lead, lead.follow_up_of) if lead.follow_up_of else None
    context: dict[str, Any] = {
        "reference": lead.reference,
        "first_name": first_name(lead),
        "treatment": lead.treatment,
        "destination": lead.destination,
        "received": _received(lead),
        "hours": settings.response_hours,
        "contact": shown(lead, "contact_method"),
        "desk_url": desk_url(settings, lead),
        "request_rows": request_rows,
        "medical_summary": shown(lead, "medical_summary"),
        "consents": _consents(session=session, lead=lead),
        "source_rows": source_rows,
        "follow_up_of": (
            {"reference": first.reference, "received": _received(first)} if first else None
        ),
    }
    return context


def _to_facilitator(
    kind: str, *, lead: Lead, facilitator: Facilitator, settings: Settings, context: dict[str, Any]
) -> Email:
    return Email(
        kind=kind,
        to=mailbox(facilitator.name, facilitator.email),
        recipient=facilitator.email,
        rendered=render(
            kind,
            directory=settings.mail_templates_dir,
            # Every email's footer links the privacy notice (templates/emails/_layout.*).
            context={**context, "privacy_notice_url": settings.privacy_notice_url},
        ),
        headers={"Reply-To": mailbox(lead.full_name, lead.email)},
    )


def _link(*, lead: Lead, facilitator: Facilitator, settings: Settings, now: datetime) -> str:
    return respond_url(settings=settings, lead_id=lead.id, facilitator_id=facilitator.id, now=now)


def facilitator_new_lead(
    *, session: Session, lead: Lead, facilitator: Facilitator, settings: Settings, now: datetime
) -> Email:
    context = request_context(session=session, lead=lead, settings=settings)
    context |= {
        "respond_url": _link(lead=lead, facilitator=facilitator, settings=settings, now=now),
        "link_days": settings.respond_link_days,
    }
    return _to_facilitator(
        FACILITATOR_NEW_LEAD, lead=lead, facilitator=facilitator, settings=settings, context=context
    )


def facilitator_reminder(
    *,
    lead: Lead,
    facilitator: Facilitator,
    assigned_at: datetime,
    due_at: datetime,
    settings: Settings,
    now: datetime,
) -> Email:
    """Half-way to the deadline without an answer: the link again, and the request in brief
    (the link's page shows it whole)."""
    context: dict[str, Any] = {
        "reference": lead.reference,
        "first_name": first_name(lead),
        "treatment": lead.treatment,
        "destination": lead.destination,
        "contact": shown(lead, "contact_method"),
        "hours": settings.response_hours,
        "assigned": assigned_at.strftime("%Y-%m-%d %H:%M UTC"),
        "due": due_at.strftime("%Y-%m-%d %H:%M UTC"),
        "respond_url": _link(lead=lead, facilitator=facilitator, settings=settings, now=now),
        "link_days": settings.respond_link_days,
        "reroute": settings.reroute_overdue,
    }
    return _to_facilitator(
        FACILITATOR_REMINDER, lead=lead, facilitator=facilitator, settings=settings, context=context
    )


def _received(lead: Lead) -> str:
    return lead.created_at.strftime("%Y-%m-%d %H:%M UTC")


def _consents(*, session: Session, lead: Lead) -> list[dict[str, Any]]:
    """Each consent with the version and label of the text agreed to."""
    if "consents" in inspect(lead).unloaded:  # a lead read back from the database (the desk)
        given = list(
            session.scalars(select(Consent).where(Consent.lead_id == lead.id).order_by(Consent.id))
        )
    else:  # a lead being created: its consents are not inserted yet
        given = list(lead.consents)
    texts: dict[str, Any] = {text.sha256: text for text in legal_texts().values()}
    if missing := {c.legal_text_sha256 for c in given} - set(texts):  # older versions
        older = session.scalars(select(LegalText).where(LegalText.sha256.in_(missing)))
        texts |= {text.sha256: text for text in older}
    return [
        {
            "kind": consent.kind,
            "granted": consent.granted,
            "version": texts[consent.legal_text_sha256].version,
            "label": texts[consent.legal_text_sha256].label,
        }
        for consent in given
    ]


def patient_confirmation(
    *, lead: Lead, facilitator: Facilitator | None, settings: Settings, now: datetime
) -> Email:
    language = lead.language if lead.language in PATIENT_CONFIRMATION else "en"
    t = PATIENT_CONFIRMATION[language]
    contact = t.get(f"contact_{lead.contact_method}", lead.contact_method)
    # The placeholder name of a facilitator made from QUOTE_DEFAULT_FACILITATOR_EMAIL means
    # nothing to a patient; a real name tells them who will call.
    if facilitator is not None and facilitator.name != DEFAULT_FACILITATOR_NAME:
        next_steps = t["next_named"].format(
            facilitator=facilitator.name, contact=contact, hours=settings.response_hours
        )
    else:
        next_steps = t["next_unnamed"].format(contact=contact, hours=settings.response_hours)

    def choice(prefix: str, value: str | None) -> str:
        return t.get(f"{prefix}_{value}", t["not_given"]) if value else t["not_given"]

    summary_rows = [
        (t["label_treatment"], lead.treatment),
        (t["label_destination"], lead.destination),
        (t["label_country"], country_name(lead.country, language)),
        (t["label_language"], LANGUAGES.get(lead.language, lead.language)),
        (t["label_patient_relation"], choice("relation", lead.patient_relation)),
        (t["label_stroke_type"], choice("stroke", lead.stroke_type)),
        (t["label_stroke_date"], _or(lead.stroke_date, t["not_given"])),
        (t["label_travel_window"], _or(lead.travel_window, t["not_given"])),
        (t["label_budget"], _or(lead.budget, t["not_given"])),
        (t["label_contact_method"], contact),
        (t["label_email"], lead.email),
        (t["label_phone"], _or(lead.phone, t["not_given"])),
    ]
    context: dict[str, Any] = {
        "t": t,
        "lang": language,
        "reference": lead.reference,
        "greeting": t["greeting"].format(name=lead.full_name),
        "reference_line": t["reference"].format(reference=lead.reference),
        "next_steps": next_steps,
        "summary_rows": summary_rows,
        "medical_summary": lead.medical_summary,
        "rights": t["rights"].format(days=settings.privacy_link_days),
        "privacy_url": privacy_link(lead_id=lead.id, settings=settings, now=now),
        "privacy_label": t["privacy_label"],
        "privacy_notice_url": settings.privacy_notice_url,
    }
    return Email(
        kind=PATIENT_CONFIRMATION_KIND,
        to=mailbox(lead.full_name, lead.email),
        recipient=lead.email,
        rendered=render(
            f"{PATIENT_CONFIRMATION_KIND}", directory=settings.mail_templates_dir, context=context
        ),
        headers={"Auto-Submitted": "auto-generated", "Content-Language": language},
    )


def alert_unrouted(
    *, lead: Lead, reason: str, settings: Settings, passed: list[str] | None = None
) -> Email | None:
    """`passed`: the facilitators a re-routed lead went through (who declined or stayed silent)."""
    context = {
        "reference": lead.reference,
        "reason": reason,
        "desk_url": desk_url(settings, lead),
        "passed": passed or [],
    }
    return operator_alert(ALERT_UNROUTED, context=context, settings=settings)


def queue_facilitator_email(
    *, session: Session, lead: Lead, facilitator: Facilitator, settings: Settings, now: datetime
) -> OutboxMessage:
    """Queue the request for `facilitator` (a new lead, or one reassigned to them)."""
    email = facilitator_new_lead(
        session=session, lead=lead, facilitator=facilitator, settings=settings, now=now
    )
    return enqueue(session=session, email=email, lead_id=lead.id, settings=settings, now=now)


def announce_lead(
    *, session: Session, lead: Lead, decision: RoutingDecision, settings: Settings, now: datetime
) -> None:
    """Queue what a new lead causes: the facilitator's request (or the operator's alert when
    nobody serves it) and the patient's confirmation, unless the patient's address already had
    its confirmations for the day (the lead's timeline then says so)."""
    if decision.facilitator is not None:
        queue_facilitator_email(
            session=session, lead=lead, facilitator=decision.facilitator, settings=settings, now=now
        )
    elif alert := alert_unrouted(lead=lead, reason=decision.reason, settings=settings):
        enqueue(session=session, email=alert, lead_id=lead.id, settings=settings, now=now)
    cap = settings.confirmations_per_address_per_day
    since = now - CONFIRMATION_DAY
    sent = confirmations_to(session=session, address=lead.email, since=since, up_to=cap)
    if sent >= cap:
        data = {"sent": sent, "cap": cap}
        record(session, lead_id=lead.id, kind=EventKind.confirmation_withheld, now=now, data=data)
        announce(session, Refusal.cap)
        return
    confirmation = patient_confirmation(
        lead=lead, facilitator=decision.facilitator, settings=settings, now=now
    )
    enqueue(session=session, email=confirmation, lead_id=lead.id, settings=settings, now=now)


def confirmations_to(*, session: Session, address: str, since: datetime, up_to: int) -> int:
    """Confirmations queued since `since` for leads from `address` (in any case), counted up to
    `up_to`: an address flooded with requests costs no more than one at the cap. Counted in
    the database, so the cap holds across instances; a confirmation is queued with its lead,
    so the leads' own time finds them (by the index on the lower-case address)."""
    values = {"address": address, "since": since, "up_to": up_to}
    return int(session.scalar(_CONFIRMATIONS_QUEUED, values) or 0)


# Built once (a submit's statements cost more to build than to run), its values given to
# execute().
_CONFIRMATIONS_QUEUED = select(func.count()).select_from(
    select(OutboxMessage.id)
    .join(Lead, Lead.id == OutboxMessage.lead_id)
    .where(
        func.lower(Lead.email) == func.lower(bindparam("address")),
        Lead.created_at > bindparam("since"),
        OutboxMessage.kind == PATIENT_CONFIRMATION_KIND,
    )
    .limit(bindparam("up_to"))
    .subquery()
)


class LeadMailEvents(MailEvents):
    """Each email's fate on its lead's timeline (emails about no lead record nothing)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def settled(
        self, session: Session, *, message: OutboxMessage, outcome: Outcome, now: datetime
    ) -> None:
        if message.lead_id is None:
            return
        data: dict[str, object] = {
            "outbox_id": message.id,
            "email": message.kind,
            "message_id": message.message_id,
            "attempt": message.attempts,
        }
        if outcome.failure is not None:
            data |= {
                "outcome": outcome.status,
                "code": outcome.failure.code,
                # An erased lead's timeline keeps no server answer (it can quote the address).
                "error": ERASED if message.kind in AFTER_ERASURE else outcome.failure.text,
            }
        if outcome.next_attempt_at is not None:
            data["next_attempt_at"] = outcome.next_attempt_at.isoformat()
        kind = EventKind.email_sent if outcome.failure is None else EventKind.email_failed
        record(session, lead_id=message.lead_id, kind=kind, now=now, data=data)
        final = outcome.status in (OutboxStatus.sent, OutboxStatus.dead)
        forget_settled(session, message=message, final=final, now=now)

    def about(self, session: Session, *, message: OutboxMessage) -> tuple[str | None, str | None]:
        lead = session.get(Lead, message.lead_id) if message.lead_id else None
        if lead is None:
            return None, None
        return lead.reference, desk_url(self.settings, lead)

    def references(self, session: Session, *, messages: list[OutboxMessage]) -> dict[int, str]:
        leads = {message.lead_id for message in messages if message.lead_id is not None}
        if not leads:
            return {}
        rows = session.execute(select(Lead.id, Lead.reference).where(Lead.id.in_(leads)))
        found = {lead_id: reference for lead_id, reference in rows}
        return {m.id: found[m.lead_id] for m in messages if m.lead_id in found}
