"""A patient's rights over their request: the personal link, what the privacy page shows and the
download holds, withdrawing marketing consent, erasure (one function for the patient, for a
coordinator and for retention), a fresh link for a lost or expired one, and the privacy notice.

Erasure keeps the lead as proof: its reference, dates, status, country and consent records (the
chain stays whole, see `consents.py`); everything that identifies the patient or tells of their
health is replaced with a marker or removed, from the lead, its timeline and its emails.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from email_validator import EmailNotValidError, validate_email
from markupsafe import Markup, escape
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.content.documents import legal_texts, parse, privacy_notice
from service.errors import NotFound, Refused
from service.languages import LANGUAGES
from service.leads import messages
from service.leads.consents import append as append_consents
from service.leads.consents import forget_personal
from service.leads.consents import new_record as consent_record
from service.leads.export import EXPORT_ACTION
from service.leads.fields import LEAD_FIELDS, country_name, raw_values
from service.leads.timeline import EventKind, record
from service.leads.translations import PATIENT_CONFIRMATION, PRIVACY
from service.mail.outbox import OutboxStatus, cancel_unsent, enqueue, forget
from service.mail.render import Email, mailbox, render
from service.models import (
    Base,
    Consent,
    DeskAudit,
    Facilitator,
    Lead,
    LeadEvent,
    LeadResponse,
    LegalText,
    OutboxMessage,
)
from service.schedule import cancel_about
from service.settings import Settings
from service.signing import BadToken, sign, unsign

PURPOSE = "privacy"
ERASED = "[erased]"
# Replaced with the marker when they hold a value (what identifies the patient, what they
# wrote); the coded details of their health and family are removed, no marker fits them.
ERASED_TEXT_FIELDS = (
    "full_name",
    "email",
    "phone",
    "treatment",  # free text on the form, like the destination: the patient may write anything
    "destination",
    "medical_summary",
    "travel_window",
    "budget",
    "referrer",
)
ERASED_CODED_FIELDS = ("patient_relation", "stroke_type", "stroke_date")
# Free text a timeline line can hold: a note (a coordinator's, a facilitator's answer's), a
# mail server's answer.
ERASED_EVENT_KEYS = ("text", "note", "error", "comment", "message")
PATIENT = "patient"  # the timeline's actor for what the patient did on their page

LINK_EMAIL = "privacy_link"
WITHDRAWN_EMAIL = "privacy_withdrawn"
ERASED_EMAIL = "privacy_erased"
# Emails queued about a lead already erased: once settled, their addresses go too.
AFTER_ERASURE = frozenset({WITHDRAWN_EMAIL, ERASED_EMAIL})
# What a token we made looks like (see service/signing.py); anything else is not looked at.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,200}\.[A-Za-z0-9_-]{1,64}")
LINK_REQUEST_WINDOW = timedelta(hours=1)
LINKS_PER_EMAIL = 10
REASON_MAX = 1000


class ErasedBy(StrEnum):
    patient = "patient"
    coordinator = "coordinator"
    retention = "retention"


# --- The personal link ---------------------------------------------------------------------


def privacy_token(*, lead_id: uuid.UUID, settings: Settings, now: datetime) -> str:
    expires_at = now + timedelta(days=settings.privacy_link_days)
    return sign(
        secret=settings.secret_key, purpose=PURPOSE, subject=str(lead_id), expires_at=expires_at
    )


def privacy_link(*, lead_id: uuid.UUID, settings: Settings, now: datetime) -> str:
    """The patient's personal page, valid QUOTE_PRIVACY_LINK_DAYS from `now`."""
    token = privacy_token(lead_id=lead_id, settings=settings, now=now)
    return f"{settings.public_base_url.rstrip('/')}/privacy/{token}"


class LinkState(StrEnum):
    valid = "valid"
    expired = "expired"  # ours, but too old: a fresh one can be asked for
    invalid = "invalid"  # not ours, mangled, or about no lead
    erased = "erased"  # ours, about a lead erased since


@dataclass(frozen=True, slots=True)
class Link:
    state: LinkState
    lead: Lead | None = None

    @property
    def language(self) -> str:
        return language_of(self.lead.language if self.lead else None)


def language_of(code: str | None) -> str:
    return code if code in PRIVACY else "en"


async def open_link(
    *, session: AsyncSession, token: str, settings: Settings, now: datetime
) -> Link:
    """What a personal link leads to. Reads only: opening a link never changes anything."""
    if not TOKEN_SHAPE.fullmatch(token):
        return Link(LinkState.invalid)
    try:
        signed = unsign(token, secret=settings.secret_key, purpose=PURPOSE)
        lead_id = uuid.UUID(signed.subject)
    except (BadToken, ValueError):
        return Link(LinkState.invalid)
    lead = await session.get(Lead, lead_id)
    if lead is None:
        return Link(LinkState.invalid)
    if lead.erased_at is not None:
        return Link(LinkState.erased, lead)
    if signed.expired(now):
        return Link(LinkState.expired, lead)
    return Link(LinkState.valid, lead)


# --- What the page shows and the download holds ----------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsentShown:
    kind: str
    granted: bool
    withdrawn: bool  # not granted, after an earlier record of the same kind was
    recorded_at: datetime
    version: str
    label: str
    text: str  # the legal text, Markdown, exactly as shown
    text_html: Markup
    text_sha256: str
    ip: str | None
    user_agent: str | None
    record_hash: str


@dataclass(frozen=True, slots=True)
class EmailShown:
    kind: str
    subject: str
    status: str
    queued_at: datetime
    sent_at: datetime | None
    text: str


@dataclass(frozen=True, slots=True)
class PrivacyRecord:
    lead: Lead
    facilitator: str | None
    consents: list[ConsentShown]
    emails: list[EmailShown]

    @property
    def marketing_granted(self) -> bool:
        latest = [c for c in self.consents if c.kind == "marketing"]
        return bool(latest) and latest[-1].granted


async def privacy_record(*, session: AsyncSession, lead: Lead) -> PrivacyRecord:
    """Everything stored about `lead` that concerns the patient: its fields, who received it,
    every consent record with the text agreed to, and the emails sent to the patient."""
    facilitator = (
        await session.get(Facilitator, lead.facilitator_id) if lead.facilitator_id else None
    )
    rows = (
        await session.execute(
            select(Consent, LegalText)
            .join(LegalText, LegalText.sha256 == Consent.legal_text_sha256)
            .where(Consent.lead_id == lead.id)
            .order_by(Consent.id)
        )
    ).all()
    consents, granted_before = [], set()
    for consent, text in rows:
        consents.append(
            ConsentShown(
                kind=consent.kind,
                granted=consent.granted,
                withdrawn=not consent.granted and consent.kind in granted_before,
                recorded_at=consent.created_at,
                version=text.version,
                label=text.label,
                text=text.body,
                text_html=parse(text.body).html,
                text_sha256=text.sha256,
                ip=consent.ip,
                user_agent=consent.user_agent,
                record_hash=consent.record_hash,
            )
        )
        if consent.granted:
            granted_before.add(consent.kind)
    emails = await session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.lead_id == lead.id,
            func.lower(OutboxMessage.recipient) == lead.email.lower(),
        )
        .order_by(OutboxMessage.id)
    )
    return PrivacyRecord(
        lead=lead,
        facilitator=facilitator.name if facilitator else None,
        consents=consents,
        emails=[
            EmailShown(
                kind=m.kind,
                subject=m.subject,
                status=m.status,
                queued_at=m.created_at,
                sent_at=m.sent_at,
                text=m.text,
            )
            for m in emails
        ],
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def download(record: PrivacyRecord, *, now: datetime) -> dict[str, Any]:
    """The page's data as one JSON document, with the machine names of the fields."""
    fields = raw_values(record.lead, facilitator=record.facilitator)
    return {
        "reference": record.lead.reference,
        "downloaded_at": now.isoformat(),
        "fields": {
            f.name: (_iso(v) if isinstance(v := fields[f.name], datetime) else v)
            for f in LEAD_FIELDS
        },
        "labels": {f.name: f.label for f in LEAD_FIELDS},
        "facilitator": record.facilitator,
        "consents": [
            {
                "kind": c.kind,
                "granted": c.granted,
                "recorded_at": _iso(c.recorded_at),
                "text": {
                    "version": c.version,
                    "label": c.label,
                    "sha256": c.text_sha256,
                    "body": c.text,
                },
                "ip": c.ip,
                "user_agent": c.user_agent,
                "record_hash": c.record_hash,
            }
            for c in record.consents
        ],
        "emails": [
            {
                "kind": e.kind,
                "subject": e.subject,
                "status": e.status,
                "queued_at": _iso(e.queued_at),
                "sent_at": _iso(e.sent_at),
                "text": e.text,
            }
            for e in record.emails
        ],
    }


def wording(language: str) -> dict[str, str]:
    """Every sentence and label the patient's page uses, in their language."""
    language = language_of(language)
    return {**PATIENT_CONFIRMATION[language], **PRIVACY[language]}


# Fields whose stored code the patient reads as a word: the wording's key prefix.
_WORDS = {
    "status": "status",
    "patient_relation": "relation",
    "stroke_type": "stroke",
    "contact_method": "contact",
    "source": "source",
}


def page_rows(record: PrivacyRecord, *, language: str) -> list[tuple[str, str]]:
    """Every field of the lead, labelled and worded in the patient's language."""
    t = wording(language)
    rows = []
    for f in LEAD_FIELDS:
        value = record.facilitator if f.name == "facilitator" else getattr(record.lead, f.name)
        if f.name == "facilitator" and not value:
            shown = t["not_routed"]
        elif value is None or value == "":
            shown = t["not_given"]
        elif isinstance(value, datetime):
            shown = value.strftime("%Y-%m-%d %H:%M UTC")
        elif f.name == "country":
            shown = country_name(value, language_of(language))
        elif f.name == "language":
            shown = LANGUAGES.get(value, value)
        elif f.name in _WORDS:
            shown = t.get(f"{_WORDS[f.name]}_{value}", str(value))
        else:
            shown = str(value)
        rows.append((t.get(f"label_{f.name}", f.label), shown))
    return rows


def email_state(email: EmailShown, *, language: str) -> str:
    t = wording(language)
    if email.status == OutboxStatus.sent and email.sent_at is not None:
        return t["email_sent"].format(date=email.sent_at.strftime("%Y-%m-%d %H:%M UTC"))
    if email.status == OutboxStatus.dead:
        return t["email_failed"]
    if email.status == OutboxStatus.cancelled:
        return t["email_cancelled"]
    return t["email_waiting"]


# --- What the patient (or a coordinator) does --------------------------------------------------


def _live_lead(session: Session, lead_id: uuid.UUID) -> Lead:
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise NotFound(messages.LEAD_NOT_FOUND)
    if lead.erased_at is not None:
        raise Refused(messages.LEAD_ERASED)
    return lead


def record_download(session: Session, *, lead_id: uuid.UUID, now: datetime) -> None:
    lead = _live_lead(session, lead_id)
    record(session, lead_id=lead.id, kind=EventKind.privacy_downloaded, now=now, actor=PATIENT)


def withdraw_marketing(
    session: Session,
    *,
    lead_id: uuid.UUID,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
) -> bool:
    """Record the withdrawal as a new consent record (not granted, the text shown, when, from
    where); False, recording nothing, when marketing consent is not given now."""
    lead = _live_lead(session, lead_id)
    granted = session.scalar(
        select(Consent.granted)
        .where(Consent.lead_id == lead.id, Consent.kind == "marketing")
        .order_by(Consent.id.desc())
        .limit(1)
    )
    if not granted:
        return False
    record(session, lead_id=lead.id, kind=EventKind.marketing_withdrawn, now=now, actor=PATIENT)
    withdrawal = consent_record(
        lead_id=lead.id,
        kind="marketing",
        granted=False,
        legal_text_sha256=legal_texts()["marketing"].sha256,
        ip=ip,
        user_agent=user_agent,
        now=now,
    )
    append_consents(session, records=[withdrawal])  # last: it holds the chain's lock
    return True


@dataclass(frozen=True, slots=True)
class Erasure:
    lead_id: uuid.UUID
    reference: str
    emails_cancelled: int
    facilitators_told: list[str]


def erase(
    session: Session,
    *,
    lead_id: uuid.UUID,
    by: ErasedBy,
    settings: Settings,
    now: datetime,
    actor: str | None = None,
    reason: str | None = None,
) -> Erasure:
    """Erase a lead's personal data, in the caller's write, the same way whoever asks.

    The patient and a coordinator (for a request received another way) also withdraw the
    health-data consent, recorded in the chain; retention erases without a withdrawal. Unsent
    emails are cancelled, every email's content is forgotten, pending scheduled work about the
    lead is dropped, each facilitator who received the request is told to delete it, and the
    patient (unless retention) gets a last email, whose address is forgotten once it is sent.
    """
    if by is ErasedBy.coordinator:
        reason = (reason or "").strip()
        if not reason:
            raise Refused(messages.ERASE_REASON_MISSING)
        if len(reason) > REASON_MAX:
            raise Refused(messages.ERASE_REASON_TOO_LONG.format(max=REASON_MAX))
        if any(ord(c) < 32 and c not in "\t\r\n" for c in reason):
            raise Refused(messages.ERASE_REASON_CHARACTERS)
    lead = _live_lead(session, lead_id)
    address, language, reference = lead.email, lead.language, lead.reference
    identifiers = [v for v in (lead.email, lead.full_name, lead.phone) if v]

    for name in ERASED_TEXT_FIELDS:
        if getattr(lead, name) not in (None, ""):
            setattr(lead, name, ERASED)
    for name in ERASED_CODED_FIELDS:
        setattr(lead, name, None)
    lead.erased_at = lead.updated_at = now
    forget_personal(session, lead_id=lead.id)
    _forget_events(session, lead_id=lead.id, identifiers=identifiers)
    _forget_searches(session, identifiers=identifiers)
    session.execute(  # a facilitator's note with their answer
        update(LeadResponse)
        .where(LeadResponse.lead_id == lead.id, LeadResponse.note.is_not(None))
        .values(note=ERASED)
    )

    emails = list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.lead_id == lead.id).order_by(OutboxMessage.id)
        )
    )
    # Facilitators who have (or are being sent) the request; one whose email never left
    # has nothing to delete.
    delivered = {
        m.recipient
        for m in emails
        if m.status in (OutboxStatus.sent, OutboxStatus.sending)
        and m.recipient.lower() != address.lower()
    }
    forget(session, messages=emails, recipients={address.lower()}, marker=ERASED, now=now)
    cancelled = cancel_unsent(session, lead_id=lead.id, now=now)
    cancel_about(session, subject=str(lead.id), now=now)

    told = []
    received = lead.created_at
    for facilitator in session.scalars(
        select(Facilitator).where(Facilitator.email.in_(delivered)).order_by(Facilitator.name)
    ):
        notice = withdrawn_email(
            reference=reference,
            received=received,
            facilitator=facilitator,
            by=by,
            settings=settings,
        )
        enqueue(session=session, email=notice, lead_id=lead.id, settings=settings, now=now)
        told.append(facilitator.name)
    if by is not ErasedBy.retention:
        last = erased_email(
            address=address, language=language, reference=reference, settings=settings
        )
        enqueue(session=session, email=last, lead_id=lead.id, settings=settings, now=now)

    data = {"by": by.value, "emails_cancelled": cancelled, "facilitators_told": told}
    if reason:
        data["reason"] = reason
    record(session, lead_id=lead.id, kind=EventKind.erased, now=now, data=data, actor=actor)
    if by is not ErasedBy.retention:
        withdrawal = consent_record(
            lead_id=lead.id,
            kind="health_data",
            granted=False,
            legal_text_sha256=legal_texts()["health_data"].sha256,
            ip=None,  # the proof of an erased request keeps no address
            user_agent=None,
            now=now,
        )
        withdrawal["personal_salt"] = None
        append_consents(session, records=[withdrawal])  # last: it holds the chain's lock
    return Erasure(lead.id, reference, cancelled, told)


def _forget_events(session: Session, *, lead_id: uuid.UUID, identifiers: Sequence[str]) -> None:
    """Free text on the lead's timeline (notes, servers' answers), and any value quoting the
    patient's address, name or phone, become the marker."""
    for event in session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead_id)):
        data = dict(event.data or {})
        for key, value in data.items():
            if key in ERASED_EVENT_KEYS or (
                isinstance(value, str) and any(i.lower() in value.lower() for i in identifiers)
            ):
                data[key] = ERASED
        if data != event.data:
            event.data = data


def _forget_searches(session: Session, *, identifiers: Sequence[str]) -> None:
    """A desk export recorded with a search for the patient (their address, name or phone, or a
    part of one) keeps who exported and when, and the marker instead of the search."""
    searched = DeskAudit.data["q"].as_string()
    exports = select(DeskAudit).where(DeskAudit.action == EXPORT_ACTION, searched.is_not(None))
    for entry in session.scalars(exports):
        q = str(entry.data.get("q", "")).lower()
        if q and q != ERASED and any(q in i.lower() or i.lower() in q for i in identifiers):
            entry.data = {**entry.data, "q": ERASED}


def forget_settled(session: Session, *, message: OutboxMessage, final: bool, now: datetime) -> None:
    """An email queued by an erasure has settled: once it is final (sent or given up), forget
    what it said and to whom, as the erasure did for the others."""
    if message.kind not in AFTER_ERASURE or not final:
        return
    stored = session.get(OutboxMessage, message.id)
    if stored is not None:
        forget(
            session,
            messages=[stored],
            recipients={stored.recipient.lower()},
            marker=ERASED,
            now=now,
        )


# --- A fresh link -------------------------------------------------------------------------


def normalise_address(raw: str) -> str | None:
    """The address as leads store it (see leads/schemas.py), or None when it is not one."""
    if not raw or len(raw) > 320 or "\x00" in raw:
        return None
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _throttle_key(settings: Settings, kind: str, value: str) -> str:
    # Keyed with the secret: a copy of the table does not say which addresses asked.
    message = f"privacy-link:{kind}:{value.lower()}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def request_fresh_link(
    session: Session, *, address: str, ip: str | None, settings: Settings, now: datetime
) -> bool:
    """Count the request, by IP and by address; False, sending nothing, when either has asked
    QUOTE_PRIVACY_LINK_REQUESTS_PER_HOUR times within the hour. Otherwise mail fresh links to
    `address` for its requests that are not erased, if it has any: the caller answers the same
    either way, so nobody learns whether an address is known."""
    since = now - LINK_REQUEST_WINDOW
    table = Base.metadata.tables["privacy_link_requests"]
    session.execute(delete(table).where(table.c.created_at < since))
    keys = [
        _throttle_key(settings, "ip", ip or "unknown"),
        _throttle_key(settings, "email", address),
    ]
    for key in keys:
        asked = session.scalar(select(func.count()).select_from(table).where(table.c.key == key))
        if (asked or 0) >= settings.privacy_link_requests_per_hour:
            return False
    session.execute(insert(table), [{"key": key, "created_at": now} for key in keys])
    leads = list(
        session.scalars(
            select(Lead)
            .where(Lead.email == address, Lead.erased_at.is_(None))
            .order_by(Lead.created_at.desc())
            .limit(LINKS_PER_EMAIL)
        )
    )
    if leads:
        email = link_email(address=address, leads=leads, settings=settings, now=now)
        enqueue(session=session, email=email, lead_id=leads[0].id, settings=settings, now=now)
        for lead in leads:
            record(session, lead_id=lead.id, kind=EventKind.privacy_link_sent, now=now)
    return True


# --- The emails -----------------------------------------------------------------------------


def _date(value: datetime) -> str:
    return value.strftime("%Y-%m-%d")


def link_email(*, address: str, leads: Sequence[Lead], settings: Settings, now: datetime) -> Email:
    language = language_of(leads[0].language)
    t = wording(language)
    context: dict[str, Any] = {
        "t": t,
        "lang": language,
        "intro": t["link_intro"].format(days=settings.privacy_link_days),
        "links": [
            (
                t["link_request"].format(reference=lead.reference, date=_date(lead.created_at)),
                privacy_link(lead_id=lead.id, settings=settings, now=now),
            )
            for lead in leads
        ],
        "privacy_label": t["privacy_label"],
        "privacy_notice_url": settings.privacy_notice_url,
    }
    return Email(
        kind=LINK_EMAIL,
        to=mailbox(None, address),
        recipient=address,
        rendered=render(LINK_EMAIL, directory=settings.mail_templates_dir, context=context),
        headers={"Auto-Submitted": "auto-generated", "Content-Language": language},
    )


def withdrawn_email(
    *,
    reference: str,
    received: datetime,
    facilitator: Facilitator,
    by: ErasedBy,
    settings: Settings,
) -> Email:
    """To a facilitator who has the request: delete it. It carries no personal data."""
    context: dict[str, Any] = {
        "reference": reference,
        "received": _date(received),
        "retention": by is ErasedBy.retention,
        "privacy_notice_url": settings.privacy_notice_url,
    }
    return Email(
        kind=WITHDRAWN_EMAIL,
        to=mailbox(facilitator.name, facilitator.email),
        recipient=facilitator.email,
        rendered=render(WITHDRAWN_EMAIL, directory=settings.mail_templates_dir, context=context),
        headers={"Auto-Submitted": "auto-generated"},
    )


def erased_email(*, address: str, language: str, reference: str, settings: Settings) -> Email:
    """The patient's last email: it is done. No name: the request's name is already gone."""
    language = language_of(language)
    t = wording(language)
    context: dict[str, Any] = {
        "t": t,
        "lang": language,
        "subject": t["erased_subject"].format(reference=reference),
        "intro": t["erased_intro"].format(reference=reference),
        "privacy_label": t["privacy_label"],
        "privacy_notice_url": settings.privacy_notice_url,
    }
    return Email(
        kind=ERASED_EMAIL,
        to=mailbox(None, address),
        recipient=address,
        rendered=render(ERASED_EMAIL, directory=settings.mail_templates_dir, context=context),
        headers={"Auto-Submitted": "auto-generated", "Content-Language": language},
    )


# --- The privacy notice -----------------------------------------------------------------------


def _retention_sentence(settings: Settings) -> str:
    if settings.retention_days is None:
        return (
            "No automatic period is set: we keep a request until you erase it from your "
            "personal page, or ask us to."
        )
    return (
        f"A request that is closed (the treatment was arranged, or it went no further) is "
        f"erased {settings.retention_days} days after its last change; a request still open "
        f"is erased {settings.retention_unclosed_days} days after it arrived. Erasing keeps "
        "only the reference, the dates, the status, the country and the record of consents."
    )


def _controller_sentence(settings: Settings) -> str:
    parts = [settings.controller_name]
    if settings.controller_address:
        parts.append(settings.controller_address)
    return ", ".join(parts)


def _contact_sentence(settings: Settings) -> str:
    if settings.privacy_email:
        return f"write to {settings.privacy_email}"
    return "reply to any email we sent you"


def _facilitator_list(facilitators: Iterable[Facilitator]) -> Markup:
    items = [
        Markup("<li>{} — {} ({})</li>").format(
            f.name,
            country_name(f.country) if f.country else "country not given",
            ", ".join(d.title() for d in f.destinations) or "any destination",
        )
        for f in facilitators
    ]
    if not items:
        return Markup("<p>No facilitator is receiving requests at the moment.</p>")
    return Markup("<ul>") + Markup("").join(items) + Markup("</ul>")


def notice_html(*, settings: Settings, facilitators: Iterable[Facilitator]) -> Markup:
    """The notice's Markdown (service/content/privacy/notice.md) with what changes filled in:
    who the controller is, how to reach them, the active facilitators, how long data is kept."""
    html = str(privacy_notice().html)
    filled = {
        "<p>[[facilitators]]</p>": _facilitator_list(facilitators),
        "[[controller]]": escape(_controller_sentence(settings)),
        "[[contact]]": escape(_contact_sentence(settings)),
        "[[retention]]": escape(_retention_sentence(settings)),
        "[[link_days]]": escape(str(settings.privacy_link_days)),
    }
    for placeholder, value in filled.items():
        html = html.replace(placeholder, str(value))
    return Markup(html)  # noqa: S704 - rendered with HTML disabled, values escaped above


async def active_facilitators(*, session: AsyncSession) -> list[Facilitator]:
    result = await session.scalars(
        select(Facilitator).where(Facilitator.active.is_(True)).order_by(Facilitator.name)
    )
    return list(result)
