"""SQLAlchemy tables: leads, their consent proof and timeline, facilitators (their turns with a
lead, their answers), the email outbox, scheduled work, the mail workers' heartbeats, privacy
link requests, and the coordinator desk (accounts, sessions, sign-in throttling, audit, API
tokens)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from service.clock import utc_now


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class LegalText(Base):
    """A text a patient was shown and agreed to, stored once and keyed by its SHA-256."""

    __tablename__ = "legal_texts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Facilitator(Base):
    """A medical-tourism coordinator or clinic that receives leads and quotes them.

    Empty `languages`, `treatments` or `destinations` mean "any".
    """

    __tablename__ = "facilitators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    treatments: Mapped[list[str]] = mapped_column(JSON, default=list)
    destinations: Mapped[list[str]] = mapped_column(JSON, default=list)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    # Where the facilitator is established (ISO 3166-1 alpha-2), for the privacy notice.
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class Lead(Base):
    __tablename__ = "leads"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    submission_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(20))  # a LeadStatus
    source: Mapped[str] = mapped_column(String(16))  # "form" or "api"

    full_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(2))
    patient_relation: Mapped[str | None] = mapped_column(String(16))
    treatment: Mapped[str] = mapped_column(String(200))
    destination: Mapped[str] = mapped_column(String(120))
    stroke_type: Mapped[str | None] = mapped_column(String(16))
    stroke_date: Mapped[str | None] = mapped_column(String(7))
    medical_summary: Mapped[str | None] = mapped_column(Text)
    travel_window: Mapped[str | None] = mapped_column(String(200))
    budget: Mapped[str | None] = mapped_column(String(200))
    contact_method: Mapped[str] = mapped_column(String(16))

    utm_source: Mapped[str | None] = mapped_column(String(255))
    utm_medium: Mapped[str | None] = mapped_column(String(255))
    utm_campaign: Mapped[str | None] = mapped_column(String(255))
    utm_term: Mapped[str | None] = mapped_column(String(255))
    utm_content: Mapped[str | None] = mapped_column(String(255))
    referrer: Mapped[str | None] = mapped_column(String(1000))

    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitators.id", ondelete="SET NULL")
    )
    # The first answer any facilitator gave through their personal link.
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the current facilitator's deadline passed without an answer (its value is the
    # deadline); cleared by an answer, a move out of `new`, or a new facilitator.
    overdue_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first request of a patient who asked again for the same treatment within a day.
    follow_up_of: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    # Set when the personal data was erased (service/leads/privacy.py); the row stays as proof.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    facilitator: Mapped[Facilitator | None] = relationship()
    first_request: Mapped[Lead | None] = relationship(remote_side=[id])
    consents: Mapped[list[Consent]] = relationship(back_populates="lead", order_by="Consent.id")
    events: Mapped[list[LeadEvent]] = relationship(back_populates="lead", order_by="LeadEvent.id")

    __table_args__ = (
        # The desk lists newest first, keyset pagination on (created_at, id): each filter's
        # index ends with both, so a filtered page is a walk down one index, never a sort.
        Index("ix_leads_created_at_id", "created_at", "id"),
        Index("ix_leads_status_created_at_id", "status", "created_at", "id"),
        # Routing counts each facilitator's recent leads; the desk filters by facilitator.
        Index("ix_leads_facilitator_id_created_at_id", "facilitator_id", "created_at", "id"),
        # Unrouted leads are few: PostgreSQL cannot walk the index above in order for IS NULL.
        Index(
            "ix_leads_unrouted_created_at_id",
            "created_at",
            "id",
            sqlite_where=text("facilitator_id IS NULL"),
            postgresql_where=text("facilitator_id IS NULL"),
        ),
        # The desk's language and treatment filters, newest first; exact email search.
        Index("ix_leads_language_created_at_id", "language", "created_at", "id"),
        Index("ix_leads_treatment_created_at_id", "treatment", "created_at", "id"),
        Index("ix_leads_email", "email"),
        # The desk's overdue filter: the few leads whose facilitator let the deadline pass.
        Index("ix_leads_overdue_since", "overdue_since"),
        # A patient's recent requests, whatever the case of their address: the cap on
        # confirmations and follow-ups.
        Index("ix_leads_email_lower_created_at", func.lower(email), "created_at"),
    )


class LeadCount(Base):
    """Leads per UTC day of arrival by status, facilitator and country: what the stats and the
    list's counts per status read instead of a million leads. Kept exact by triggers on `leads`
    (the migration that made this table creates them), whatever writes the lead.

    dimension: status | facilitator | country | first_change; value: the lead's (a facilitator's
    id, "" for none; the bucket of the wait until its first status change).
    """

    __tablename__ = "lead_counts"

    # In this order, the primary key is the index the reads need: one dimension, recent days.
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)  # a CountedBy
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class Consent(Base):
    """Proof of one consent: what was shown (by hash), whether it was granted, when, from where.

    Every record is a link of one hash chain (service/leads/consents.py): `record_hash` covers
    `prev_hash` and the record's fields, the personal ones (IP, browser) through
    `personal_hash`, salted with `personal_salt`; erasure removes the salt with them.
    """

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    legal_text_sha256: Mapped[str] = mapped_column(ForeignKey("legal_texts.sha256"))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    personal_salt: Mapped[str | None] = mapped_column(String(32))
    personal_hash: Mapped[str] = mapped_column(String(64))
    # Unique: two records can never claim the same predecessor (the chain cannot fork).
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    record_hash: Mapped[str] = mapped_column(String(64))

    lead: Mapped[Lead] = relationship(back_populates="consents")
    legal_text: Mapped[LegalText] = relationship()


class LeadEvent(Base):
    """One line of a lead's timeline: created, routed, email sent, status changed, note..."""

    __tablename__ = "lead_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))  # an EventKind
    actor: Mapped[str | None] = mapped_column(String(254))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    lead: Mapped[Lead] = relationship(back_populates="events")


class LeadAssignment(Base):
    """One facilitator's turn with a lead, from routing (or a reassignment) until the lead moves
    on: they declined, let the deadline pass and it was re-routed, or a coordinator reassigned
    it. The answer is due at `due_at`; a reminder goes out half-way.

    end_reason: declined | overdue | reassigned (None while it is the lead's current turn).
    """

    __tablename__ = "lead_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitators.id", ondelete="SET NULL")
    )
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the operator's hourly digest listed this turn as newly overdue.
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(16))

    facilitator: Mapped[Facilitator | None] = relationship()

    __table_args__ = (
        # The stats count each facilitator's turns; the digest finds the overdue ones.
        Index("ix_lead_assignments_facilitator_id_assigned_at", "facilitator_id", "assigned_at"),
        Index("ix_lead_assignments_overdue_at", "overdue_at"),
    )


class LeadResponse(Base):
    """A facilitator's answer through their personal link: contacted the patient, sent a quote
    (with an optional price range, currency and note), or declined (a reason and a note). One
    of each action per turn: a second click finds the first."""

    __tablename__ = "lead_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("lead_assignments.id", ondelete="CASCADE")
    )
    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitators.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(16))  # a ResponseAction
    reason: Mapped[str | None] = mapped_column(String(32))  # a DeclineReason
    price_min: Mapped[int | None] = mapped_column(Integer)
    price_max: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    facilitator: Mapped[Facilitator | None] = relationship()

    __table_args__ = (
        UniqueConstraint("assignment_id", "action"),
        Index("ix_lead_responses_facilitator_id_created_at", "facilitator_id", "created_at"),
    )


class OutboxMessage(Base):
    """An email rendered when it was queued: exactly what will be sent, and its fate.

    status: pending -> sending (leased) -> sent | retry (due again at next_attempt_at) | dead;
    cancelled (never claimed) for a lead that was erased.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # an OutboxStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which claim holds the lease: a worker whose lease expired (and was claimed again by
    # another) cannot record an outcome over the newer claim's.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    last_error_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)

    lead: Mapped[Lead | None] = relationship()

    __table_args__ = (
        # The worker claims due rows: status in (pending, retry) and next_attempt_at <= now,
        # or status sending with an expired lease.
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )


class ScheduledJob(Base):
    """Work due at a time (a reminder, a deadline, a digest, a purge), claimed under a lease like
    the outbox's emails, so that it runs once however many workers run. `key` names the work:
    asking twice for the same key schedules it once.

    status: pending -> running (leased) -> done | pending again (retried) | failed.
    """

    __tablename__ = "scheduled_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # a JobStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    __table_args__ = (Index("ix_scheduled_jobs_status_due_at", "status", "due_at"),)


class PrivacyLinkRequest(Base):
    """One request for a fresh privacy link, under a keyed hash of the IP or of the address
    asked for, counted to limit how often anyone can ask (and so mail a patient)."""

    __tablename__ = "privacy_link_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    __table_args__ = (Index("ix_privacy_link_requests_key_created_at", "key", "created_at"),)


class WorkerHeartbeat(Base):
    """A mail worker's last sign of life, written as it polls, with the send attempts it made
    by outcome since it started: any instance reads them (/readyz, /metrics), whichever process
    sent. Rows stay after a worker stops, so the totals only grow."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    retried: Mapped[int] = mapped_column(Integer, default=0)
    dead: Mapped[int] = mapped_column(Integer, default=0)


class Coordinator(Base):
    """A person who signs in to the desk. `admin` also manages coordinators and facilitators."""

    __tablename__ = "coordinators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="coordinator")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class DeskSession(Base):
    """Server-side desk session data, keyed by the SHA-256 of the session id in the cookie."""

    __tablename__ = "desk_sessions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class SignInFailure(Base):
    """One failed sign-in, under a hashed key (`account:<email>` or `ip:<address>`)."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    __table_args__ = (Index("ix_sign_in_failures_key_created_at", "key", "created_at"),)


class DeskAudit(Base):
    """Desk-wide actions that belong to no single lead, such as a CSV export."""

    __tablename__ = "desk_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    coordinator_id: Mapped[int] = mapped_column(
        ForeignKey("coordinators.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    coordinator: Mapped[Coordinator] = relationship()
