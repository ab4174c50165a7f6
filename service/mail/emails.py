"""The emails Quote Desk sends: who receives each one, and what it says (rendered from
`templates/emails/`)."""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pycountry
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from service.content.documents import legal_texts
from service.leads.routing import DEFAULT_FACILITATOR_NAME
from service.leads.schemas import (
    CONTACT_METHODS,
    LANGUAGES,
    PATIENT_RELATIONS,
    STROKE_TYPES,
    UTM_FIELDS,
)
from service.mail.render import Rendered, mailbox, render
from service.mail.translations import FACILITATOR_LABELS, PATIENT_CONFIRMATION
from service.models import Consent, Facilitator, Lead, LegalText, OutboxMessage
from service.settings import Settings

FACILITATOR_NEW_LEAD = "facilitator_new_lead"
PATIENT_CONFIRMATION_KIND = "patient_confirmation"
ALERT_UNROUTED = "alert_unrouted"
ALERT_DEAD_EMAIL = "alert_dead_email"
ALERT_KINDS = frozenset({ALERT_UNROUTED, ALERT_DEAD_EMAIL})


@dataclass(frozen=True, slots=True)
class Email:
    """A rendered email and its addressing, ready to be queued."""

    kind: str
    to: str  # the To header, `Name <address>`
    recipient: str  # the envelope recipient: the bare address, never parsed from a header
    rendered: Rendered
    headers: dict[str, str] = field(default_factory=dict)


def desk_url(settings: Settings, lead: Lead) -> str:
    return f"{settings.public_base_url.rstrip('/')}/desk/leads/{lead.id}"


def first_name(lead: Lead) -> str:
    parts = lead.full_name.split()
    return parts[0] if parts else lead.full_name


@cache
def _country_names(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def country_name(code: str, language: str = "en") -> str:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    name = str(getattr(country, "common_name", None) or country.name)
    return _country_names(language).gettext(name) if language != "en" else name


def _or(value: str | None, fallback: str) -> str:
    return value if value else fallback


def facilitator_new_lead(
    *, session: Session, lead: Lead, facilitator: Facilitator, settings: Settings
) -> Email:
    label = FACILITATOR_LABELS
    not_given = label["not_given"]
    request_rows = [
        (label["reference"], lead.reference),
        (label["full_name"], lead.full_name),
        (label["email"], lead.email),
        (label["phone"], _or(lead.phone, not_given)),
        (label["contact_method"], CONTACT_METHODS.get(lead.contact_method, lead.contact_method)),
        (label["country"], f"{country_name(lead.country)} ({lead.country})"),
        (label["language"], LANGUAGES.get(lead.language, lead.language)),
        (label["patient_relation"], PATIENT_RELATIONS.get(lead.patient_relation or "", not_given)),
        (label["treatment"], lead.treatment),
        (label["destination"], lead.destination),
        (label["stroke_type"], STROKE_TYPES.get(lead.stroke_type or "", not_given)),
        (label["stroke_date"], _or(lead.stroke_date, not_given)),
        (label["travel_window"], _or(lead.travel_window, not_given)),
        (label["budget"], _or(lead.budget, not_given)),
    ]
    source_rows = [
        (label["source"], label[f"source_{lead.source}"]),
        *((name, _or(getattr(lead, name), not_given)) for name in UTM_FIELDS),
        (label["referrer"], _or(lead.referrer, not_given)),
    ]
    context: dict[str, Any] = {
        "reference": lead.reference,
        "first_name": first_name(lead),
        "treatment": lead.treatment,
        "destination": lead.destination,
        "received": lead.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        "hours": settings.reply_within_hours,
        "contact": CONTACT_METHODS.get(lead.contact_method, lead.contact_method),
        "desk_url": desk_url(settings, lead),
        "request_rows": request_rows,
        "medical_summary": _or(lead.medical_summary, not_given),
        "consents": _consents(session=session, lead=lead),
        "source_rows": source_rows,
    }
    return Email(
        kind=FACILITATOR_NEW_LEAD,
        to=mailbox(facilitator.name, facilitator.email),
        recipient=facilitator.email,
        rendered=render(
            FACILITATOR_NEW_LEAD, directory=settings.mail_templates_dir, context=context
        ),
        headers={"Reply-To": mailbox(lead.full_name, lead.email)},
    )


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
    *, lead: Lead, facilitator: Facilitator | None, settings: Settings
) -> Email:
    language = lead.language if lead.language in PATIENT_CONFIRMATION else "en"
    t = PATIENT_CONFIRMATION[language]
    contact = t.get(f"contact_{lead.contact_method}", lead.contact_method)
    # The placeholder name of a facilitator made from QUOTE_DEFAULT_FACILITATOR_EMAIL means
    # nothing to a patient; a real name tells them who will call.
    if facilitator is not None and facilitator.name != DEFAULT_FACILITATOR_NAME:
        next_steps = t["next_named"].format(
            facilitator=facilitator.name, contact=contact, hours=settings.reply_within_hours
        )
    else:
        next_steps = t["next_unnamed"].format(contact=contact, hours=settings.reply_within_hours)

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


def alert_unrouted(*, lead: Lead, reason: str, settings: Settings, alert_email: str) -> Email:
    context = {"reference": lead.reference, "reason": reason, "desk_url": desk_url(settings, lead)}
    return _alert(ALERT_UNROUTED, context=context, settings=settings, alert_email=alert_email)


def alert_dead_email(
    *,
    message: OutboxMessage,
    code: int | None,
    error: str,
    lead: Lead | None,
    settings: Settings,
    alert_email: str,
) -> Email:
    context = {
        "reference": lead.reference if lead else None,
        "email_kind": message.kind,
        "outbox_id": message.id,
        "attempts": message.attempts,
        "code": code,
        "error": error,
        "desk_url": desk_url(settings, lead) if lead else None,
    }
    return _alert(ALERT_DEAD_EMAIL, context=context, settings=settings, alert_email=alert_email)


def _alert(kind: str, *, context: dict[str, Any], settings: Settings, alert_email: str) -> Email:
    return Email(
        kind=kind,
        to=mailbox(None, alert_email),
        recipient=alert_email,
        rendered=render(kind, directory=settings.mail_templates_dir, context=context),
        headers={"Auto-Submitted": "auto-generated"},
    )
