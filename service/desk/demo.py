"""Demo leads for demos and the 1,000,000-lead measurement: complete like real ones (routed,
consents against the stored legal texts and linked into the consent chain, a timeline, their
emails in every outbox state), inserted in batches with executemany on the Core tables.

Nobody consented to anything here, so every demo consent says so: its IP address is in
192.0.2.0/24 (TEST-NET-1, reserved for documentation: never a real client) and its user agent
is DEMO_USER_AGENT; demo leads also have a `demo:` submission id. Their references look like
real ones, so that the desk finds them as it finds real leads. No demo email can reach a real
person: patients have addresses at example.org, and the emails to facilitators (who may be
real) are all finished (sent or dead); only patient confirmations are left pending, sending
or waiting for a retry.
"""

from __future__ import annotations

import random
import secrets
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape
from typing import Any

from sqlalchemy import Column, Table, func, insert, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from service.content.documents import LEGAL_KINDS, legal_texts
from service.db import Database
from service.facilitators import FacilitatorInput, save_facilitator
from service.leads.consents import head as consent_chain_head
from service.leads.consents import link as link_consents
from service.leads.consents import new_record as consent_record
from service.leads.reference import ALPHABET, LENGTH, new_reference
from service.leads.submit import store_legal_texts
from service.models import Base, Facilitator

BATCH = 5000
TABLES: dict[str, Table] = dict(Base.metadata.tables)
DEMO_USER_AGENT = "quote-desk demo-data (a demo lead: nobody consented to anything)"
DEMO_MAIL_FROM = "Quote Desk (demo) <quotes@quote-desk.example>"
COORDINATORS = ("ines.demo@example.org", "tom.demo@example.org", "yasmin.demo@example.org")
# Created when no facilitator is active, so that demo leads are routed like real ones.
FACILITATORS = (
    {
        "name": "Demo: Clinique Saint-Luc, Bruxelles",
        "email": "saint-luc@facilitator.example",
        "languages": ("fr", "nl", "en"),
        "country": "BE",
    },
    {
        "name": "Demo: Revalidatie Gent",
        "email": "gent@facilitator.example",
        "languages": ("nl",),
        "country": "BE",
    },
    {
        "name": "Demo: Reha-Zentrum Eupen",
        "email": "eupen@facilitator.example",
        "languages": ("de", "fr"),
        "country": "BE",
    },
    {
        "name": "Demo: Stroke Care Abroad",
        "email": "care@facilitator.example",
        "languages": (),
        "country": "NL",
    },
)

FIRST = {
    "en": ["James", "Olivia", "Harry", "Amelia", "Siobhán", "Emily", "Jack", "Grace", "Noah"],
    "fr": ["Marie", "Jean", "Camille", "Louis", "Chloé", "Hugo", "Léa", "Théo", "Élise", "Luc"],
    "nl": ["Jan", "Anke", "Pieter", "Lotte", "Bram", "Sanne", "Wim", "Ilse", "Joris", "Femke"],
    "de": ["Lukas", "Anna", "Jonas", "Lena", "Felix", "Mia", "Paul", "Hanna", "Max", "Grete"],
}
LAST = {
    "en": ["Smith", "O'Brien", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright"],
    "fr": ["Martin", "Bernard", "Dubois", "D'Amico", "Leroy", "Moreau", "Girard", "Lefèvre"],
    "nl": ["Peeters", "Janssens", "Maes", "Jacobs", "De Vries", "Bakker", "Visser", "Claes"],
    "de": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann"],
}
COUNTRIES = {
    "en": ["GB", "IE", "US", "CA", "AU"],
    "fr": ["FR", "BE", "CH", "LU", "MA"],
    "nl": ["NL", "BE"],
    "de": ["DE", "AT", "CH"],
}
LANGUAGE_WEIGHTS = {"en": 4, "fr": 3, "nl": 2, "de": 2}
TREATMENTS = [
    "Stem cell therapy for stroke rehabilitation",
    "Neurorehabilitation programme",
    "Robot-assisted gait training",
    "Speech and language therapy",
]
# How far each lead got in the pipeline, and the moves that took it there.
PATHS: dict[tuple[str, ...], int] = {
    (): 30,
    ("contacted",): 25,
    ("contacted", "quoted"): 15,
    ("contacted", "quoted", "won"): 6,
    ("contacted", "lost"): 8,
    ("contacted", "quoted", "lost"): 6,
    ("spam",): 6,
    ("duplicate",): 4,
}
SUMMARIES = [
    "Weakness on the left side since the stroke; walks with a cane.",
    "Speech is difficult; understands well.\nPhysiotherapy twice a week at home.",
    "Right arm barely moves. Looking for an intensive programme, 3 to 4 weeks.",
    "Recovered walking, still very tired.\nAsking on behalf of my father, 74.",
    'Aphasia after a "minor" stroke; reads slowly, writes a little.',
]
NOTES = [
    "Called back, prefers WhatsApp after 6 pm.",
    "Sent the brochure; the patient's daughter will call.",
    "Asked for the neurologist's report before a quote.",
    "Wants to travel with a carer: two rooms.",
]
UTM_SOURCES = [None, None, "newsletter", "facebook", "google", "partner-site"]
# Names as the local part of an address: lower case ASCII, as most people write theirs.
ASCII = {
    name: "".join(
        c for c in unicodedata.normalize("NFKD", name).lower() if c.isascii() and c.isalnum()
    )
    for names in (*FIRST.values(), *LAST.values())
    for name in names
}
SUBJECTS = {
    "en": "We have received your request",
    "fr": "Nous avons bien reçu votre demande",
    "nl": "We hebben uw aanvraag ontvangen",
    "de": "Wir haben Ihre Anfrage erhalten",
}
FACILITATOR, PATIENT = "facilitator_new_lead", "patient_confirmation"
REFUSED_PATIENT = "5.1.1 <{email}>: Recipient address rejected: User unknown"
REFUSED_FACILITATOR = "5.7.1 Message rejected: content policy"
MAILBOX_FULL = "4.2.2 Mailbox full, try again later"


@dataclass(slots=True)
class _Demo:
    """One demo lead and the fate drawn for it: what the inserts turn into rows."""

    lead: dict[str, Any]
    facilitator: Facilitator
    reassigned_to: Facilitator | None
    moves: list[tuple[str, datetime]]
    patient_email: str  # the confirmation's outbox status
    facilitator_email: str  # sent or dead
    note: tuple[str, datetime] | None
    actor: str
    marketing: bool


def _leads(
    count: int, *, now: datetime, days: int, facilitators: list[Facilitator], rng: random.Random
) -> Iterator[_Demo]:
    run = secrets.token_hex(4)
    languages = list(LANGUAGE_WEIGHTS)
    weights = list(LANGUAGE_WEIGHTS.values())
    paths, path_weights = list(PATHS), list(PATHS.values())
    speakers = {
        language: [f for f in facilitators if not f.languages or language in f.languages]
        or facilitators
        for language in languages
    }
    # Oldest first, with ids that grow with time (like UUIDv7): the indexes on created_at and
    # id are appended to rather than split at random, which keeps a million rows fast.
    step = days * 86400 / count
    start = now - timedelta(days=days)
    prefix = rng.getrandbits(32)
    for n in range(count):
        language = rng.choices(languages, weights)[0]
        first, last = rng.choice(FIRST[language]), rng.choice(LAST[language])
        created = start + timedelta(seconds=(n + rng.random()) * step)
        utm = rng.choice(UTM_SOURCES)
        path = rng.choices(paths, path_weights)[0]
        moves, at = [], created
        for status in path:  # hours to days apart, and all of it before now
            at += min(timedelta(hours=rng.uniform(0.5, 48)), (now - at) / 2)
            moves.append((status, at))
        facilitator = rng.choice(speakers[language])
        facilitator_email = "dead" if rng.random() < 0.005 else "sent"
        others = (
            [f for f in facilitators if f is not facilitator] if facilitator_email == "dead" else []
        )
        newest = count - 1 - n
        if newest < 4:  # the latest confirmations: on their way, or refused
            patient_email = ("pending", "sending", "retry", "dead")[newest]
        elif now - created < timedelta(days=1) and rng.random() < 0.02:
            patient_email = "retry"
        else:
            patient_email = "dead" if rng.random() < 0.01 else "sent"
        lead = {
            "id": uuid.UUID(int=(int(created.timestamp() * 1000) << 80) | (prefix << 48) | n),
            "reference": "Q-" + "".join(rng.choices(ALPHABET, k=LENGTH)),
            "submission_id": f"demo:{run}:{n}",
            "status": path[-1] if path else "new",
            "source": "form" if rng.random() < 0.9 else "api",
            "full_name": f"{first} {last}",
            "email": f"{ASCII[first]}.{ASCII[last]}.{n}@example.org",
            "phone": f"+32470{rng.randrange(100000, 999999)}",
            "country": rng.choice(COUNTRIES[language]),
            "language": language,
            "patient_relation": rng.choice(["self", "family", "family", "other"]),
            "treatment": rng.choice(TREATMENTS),
            "destination": "Belgium",
            "stroke_type": rng.choice(["ischemic", "ischemic", "hemorrhagic", "unknown"]),
            "stroke_date": _months_before(created, rng.randrange(1, 72)),
            "medical_summary": rng.choice(SUMMARIES),
            "travel_window": rng.choice([None, "Next spring", "Within 3 months", "Flexible"]),
            "budget": rng.choice([None, "EUR 10,000", "EUR 20,000", "Not sure yet"]),
            "contact_method": rng.choice(["email", "phone", "whatsapp"]),
            "utm_source": utm,
            "utm_medium": "email" if utm == "newsletter" else ("cpc" if utm else None),
            "utm_campaign": "stroke-2026" if utm else None,
            "utm_term": "stem cells, stroke" if utm == "google" else None,
            "utm_content": "article" if utm else None,
            "referrer": "https://www.google.com/" if utm == "google" else None,
            "facilitator_id": facilitator.id,
            # Demo facilitators never answer through their links: coordinators moved these.
            "responded_at": None,
            "overdue_since": None,
            "erased_at": None,
            "follow_up_of": None,  # each demo patient asks once
            "created_at": created,
            "updated_at": moves[-1][1] if moves else created,
        }
        yield _Demo(
            lead=lead,
            facilitator=facilitator,
            reassigned_to=rng.choice(others) if others else None,
            moves=moves,
            patient_email=patient_email,
            facilitator_email=facilitator_email,
            note=(rng.choice(NOTES), moves[0][1] + (now - moves[0][1]) / 2)
            if moves and rng.random() < 0.15
            else None,
            actor=rng.choice(COORDINATORS),
            marketing=rng.random() < 0.35,
        )


def _months_before(moment: datetime, months: int) -> str:
    """YYYY-MM of the month `months` before `moment` (a stroke is always in the past)."""
    index = moment.year * 12 + moment.month - 1 - months
    return f"{index // 12}-{index % 12 + 1:02d}"


@dataclass(frozen=True, slots=True)
class _Stored:
    """The database's own form of the values that need converting, made by the column types
    themselves (as a Core insert would), so that every row can be a plain tuple."""

    id: Callable[[Any], Any]
    time: Callable[[Any], Any]
    json: Callable[[Any], Any]
    flag: Callable[[Any], Any]

    @classmethod
    def of(cls, dialect: Dialect) -> _Stored:
        def convert(column: Column[Any]) -> Callable[[Any], Any]:
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            return processor or (lambda value: value)

        events, consents = TABLES["lead_events"].c, TABLES["consents"].c
        return cls(
            id=convert(events.lead_id),
            time=_once_per_value(convert(events.created_at)),
            json=convert(events.data),
            flag=convert(consents.granted),
        )


def _once_per_value(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A lead's time is in a dozen of its rows: each distinct value is converted once."""
    done: dict[Any, Any] = {}

    def cached(value: Any) -> Any:
        try:
            return done[value]
        except KeyError:
            done[value] = converted = convert(value)
            return converted

    return cached


@dataclass(slots=True)
class _Rows:
    """One batch as tuples in each table's column order (see COLUMNS)."""

    leads: list[tuple[Any, ...]] = field(default_factory=list)
    # Linked into the consent chain, and made tuples, in the write (see `_consents`).
    consents: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    outbox: list[tuple[Any, ...]] = field(default_factory=list)


COLUMNS = {
    "leads": tuple(c.name for c in TABLES["leads"].columns),
    "consents": tuple(c.name for c in TABLES["consents"].columns if c.name != "id"),
    "lead_events": tuple(c.name for c in TABLES["lead_events"].columns if c.name != "id"),
    "outbox": tuple(c.name for c in TABLES["outbox"].columns),
}


def _email(
    demo: _Demo, kind: str, *, outbox_id: int, to: Facilitator | None, at: datetime, now: datetime
) -> dict[str, Any]:
    """An email as the worker left it after sending it; `_outcome` gives it another fate."""
    lead = demo.lead
    done = min(at + timedelta(seconds=2), now)
    if to is not None:
        recipient, to_header = to.email, f"{to.name} <{to.email}>"
        subject = f"[{lead['reference']}] New quote request: {lead['treatment']}"
        body = f"New quote request {lead['reference']} from {lead['full_name']}."
        extra = {"Reply-To": f"{lead['full_name']} <{lead['email']}>"}
    else:
        recipient, to_header = lead["email"], f"{lead['full_name']} <{lead['email']}>"
        subject = f"{SUBJECTS[lead['language']]} ({lead['reference']})"
        body = f"{lead['full_name']}: {SUBJECTS[lead['language']]}, {lead['reference']}."
        extra = {"Auto-Submitted": "auto-generated", "Content-Language": lead["language"]}
    # Time-ordered, like the ids: the unique index is appended to.
    message_id = f"<{int(at.timestamp() * 1000)}.{outbox_id}.demo@quote-desk.example>"
    return {
        "id": outbox_id,
        "lead_id": lead["id"],
        "kind": kind,
        "recipient": recipient,
        "subject": subject,
        "text": f"{body}\n\n{lead['medical_summary']}\n\n-- \nQuote Desk (demo data)\n",
        "html": f"<p>{escape(body)}</p><p>{escape(lead['medical_summary'])}</p>",
        "headers": {
            "From": DEMO_MAIL_FROM,
            "To": to_header,
            "Date": format_datetime(at),
            "Message-ID": message_id,
            **extra,
        },
        "message_id": message_id,
        "status": "sent",
        "attempts": 1,
        "next_attempt_at": at,
        "lease_expires_at": None,
        "lease_token": None,
        "last_error_code": None,
        "last_error": None,
        "sent_at": done,
        "created_at": at,
        "updated_at": done,
    }


def _outcome(
    email: dict[str, Any], state: str, *, now: datetime, error: str, code: int, rng: random.Random
) -> None:
    """Turn a sent email into one in `state`, as the worker would have left it."""
    if state == "sent":
        return
    email.update(status=state, sent_at=None)
    if state == "pending":
        email.update(attempts=0, updated_at=email["created_at"])
    elif state == "sending":
        lease = now + timedelta(minutes=5)
        email.update(lease_expires_at=lease, lease_token=secrets.token_hex(16))
    else:
        email.update(last_error_code=code, last_error=error)
        if state == "retry":
            email["next_attempt_at"] = now + timedelta(minutes=rng.randrange(5, 60))


def _email_event(email: dict[str, Any]) -> tuple[str, datetime, dict[str, Any]] | None:
    """The timeline line the worker wrote for this email, as (kind, time, data)."""
    status = email["status"]
    if status in ("pending", "sending"):
        return None  # not tried yet, or being tried now
    data = {
        "outbox_id": email["id"],
        "email": email["kind"],
        "message_id": email["message_id"],
        "attempt": email["attempts"],
    }
    if status == "sent":
        return "email_sent", email["updated_at"], data
    data |= {"outcome": status, "code": email["last_error_code"], "error": email["last_error"]}
    if status == "retry":
        data["next_attempt_at"] = email["next_attempt_at"].isoformat()
    return "email_failed", email["updated_at"], data


def _rows(
    demos: list[_Demo],
    *,
    outbox_ids: Iterator[int],
    now: datetime,
    rng: random.Random,
    stored: _Stored,
) -> _Rows:
    """A batch's rows (leads, consents, timeline events, emails), with the outbox ids
    reserved for it."""
    sha256 = {kind: text.sha256 for kind, text in legal_texts().items()}
    rows = _Rows()
    for demo in demos:
        lead = demo.lead
        t0, lead_id = lead["created_at"], stored.id(lead["id"])
        stored_t0 = stored.time(t0)
        ip = f"192.0.2.{lead['id'].int % 254 + 1}"
        granted = {"disclaimer": True, "health_data": True, "marketing": demo.marketing}
        rows.consents += [
            consent_record(
                lead_id=lead["id"],
                kind=kind,
                granted=granted[kind],
                legal_text_sha256=sha256[kind],
                ip=ip,
                user_agent=DEMO_USER_AGENT,
                now=t0,
            )
            for kind in LEGAL_KINDS
        ]
        facilitator = demo.facilitator
        timeline: list[tuple[str, datetime, dict[str, Any], str | None]] = [
            ("created", t0, {"source": lead["source"]}, None),
            (
                "routed",
                t0,
                {
                    "reason": f"speaks {lead['language']}, fewest recent leads for its weight",
                    "candidates": 1,
                    "language_match": True,
                    "tied": 1,
                    "recent_leads": 0,
                    "weight": facilitator.weight,
                    "facilitator_id": facilitator.id,
                    "facilitator": facilitator.email,
                },
                None,
            ),
        ]
        emails = [
            _email(demo, FACILITATOR, outbox_id=next(outbox_ids), to=facilitator, at=t0, now=now),
            _email(demo, PATIENT, outbox_id=next(outbox_ids), to=None, at=t0, now=now),
        ]
        _outcome(
            emails[0], demo.facilitator_email, now=now, error=REFUSED_FACILITATOR, code=550, rng=rng
        )
        if demo.patient_email == "retry":
            _outcome(emails[1], "retry", now=now, error=MAILBOX_FULL, code=452, rng=rng)
        else:
            refused = REFUSED_PATIENT.format(email=lead["email"])
            _outcome(emails[1], demo.patient_email, now=now, error=refused, code=550, rng=rng)
        if demo.reassigned_to is not None:
            new, at = demo.reassigned_to, min(t0 + timedelta(hours=1), now)
            moved = {
                "from_facilitator_id": facilitator.id,
                "to_facilitator_id": new.id,
                "to_facilitator": new.name,
            }
            timeline.append(("reassigned", at, moved, demo.actor))
            emails.append(
                _email(demo, FACILITATOR, outbox_id=next(outbox_ids), to=new, at=at, now=now)
            )
            lead["facilitator_id"] = new.id
        for email in emails:
            if (line := _email_event(email)) is not None:
                timeline.append((*line, None))
        previous = "new"
        for status, at in demo.moves:
            timeline.append(("status_changed", at, {"from": previous, "to": status}, demo.actor))
            previous = status
        if demo.note is not None:
            timeline.append(("note", demo.note[1], {"text": demo.note[0]}, demo.actor))
        # The timeline reads in the order things happened (its ids follow the inserts).
        timeline.sort(key=lambda line: line[1])
        rows.events += [
            (lead_id, kind, actor, stored.json(data), stored.time(at))
            for kind, at, data, actor in timeline
        ]
        rows.outbox += [_outbox_row(email, lead_id, stored) for email in emails]
        lead |= {
            "id": lead_id,
            "created_at": stored_t0,
            "updated_at": stored.time(lead["updated_at"]),
        }
        rows.leads.append(tuple(lead[name] for name in COLUMNS["leads"]))
    return rows


def _outbox_row(email: dict[str, Any], lead_id: Any, stored: _Stored) -> tuple[Any, ...]:
    times = ("next_attempt_at", "lease_expires_at", "sent_at", "created_at", "updated_at")
    email |= {name: stored.time(email[name]) for name in times}
    email |= {"lead_id": lead_id, "headers": stored.json(email["headers"])}
    return tuple(email[name] for name in COLUMNS["outbox"])


def _outbox_ids(session: Session, *, count: int, sqlite: bool) -> Iterator[int]:
    """`count` outbox ids nobody else uses, so that the timeline can name its emails before
    they are inserted. SQLite: this write holds the only write lock, the next ids are free.
    PostgreSQL: drawn from the table's own sequence, as concurrent inserts draw theirs."""
    if sqlite:
        last = session.scalar(select(func.coalesce(func.max(TABLES["outbox"].c.id), 0)))
        return iter(range(int(last or 0) + 1, int(last or 0) + 1 + count))
    drawn = session.scalars(
        text("SELECT nextval(pg_get_serial_sequence('outbox', 'id')) FROM generate_series(1, :n)"),
        {"n": count},
    )
    return iter(sorted(int(i) for i in drawn))


def _insert_batch(
    session: Session, *, demos: list[_Demo], now: datetime, sqlite: bool, seed: int
) -> None:
    if sqlite:
        session.execute(text("PRAGMA cache_size=-131072"))  # 128 MiB
    _unique_references(session, demos)
    ids = _outbox_ids(session, count=sum(3 if d.reassigned_to else 2 for d in demos), sqlite=sqlite)
    rng = random.Random(seed)  # noqa: S311 - fake data, not security
    stored = _Stored.of(session.get_bind().dialect)
    rows = _rows(demos, outbox_ids=ids, now=now, rng=rng, stored=stored)
    _executemany(session, "leads", rows.leads)
    _executemany(session, "outbox", rows.outbox)
    _executemany(session, "lead_events", rows.events)
    # Last: the consent chain's lock (PostgreSQL) is held until the commit.
    _executemany(session, "consents", _consents(session, rows.consents, stored=stored))


def _consents(
    session: Session, records: list[dict[str, Any]], *, stored: _Stored
) -> list[tuple[Any, ...]]:
    """The batch's consent records linked into the chain, as tuples in column order."""
    convert = {"lead_id": stored.id, "granted": stored.flag, "created_at": stored.time}
    return [
        tuple(convert.get(name, _same)(record[name]) for name in COLUMNS["consents"])
        for record in link_consents(records, prev=consent_chain_head(session))
    ]


def _same(value: Any) -> Any:
    return value


def _unique_references(session: Session, demos: list[_Demo]) -> None:
    """Draw again the few references that a stored lead, or another of the batch, has."""
    drawn = [demo.lead["reference"] for demo in demos]
    leads = TABLES["leads"]
    taken = set(session.scalars(select(leads.c.reference).where(leads.c.reference.in_(drawn))))
    for demo in demos:
        while demo.lead["reference"] in taken:
            demo.lead["reference"] = new_reference()
        taken.add(demo.lead["reference"])


def _executemany(session: Session, table: str, rows: list[tuple[Any, ...]]) -> None:
    """The table's Core INSERT, run as one executemany of tuples already converted by the
    column types: for a million leads (eleven million rows) the per-row work of a Core insert
    with dictionaries took longer than SQLite itself."""
    statement = insert(TABLES[table]).compile(
        dialect=session.get_bind().dialect, column_keys=list(COLUMNS[table])
    )
    # The tuples follow COLUMNS, which follows the table: so must the statement's parameters.
    if tuple(statement.positiontup or ()) != COLUMNS[table]:
        raise RuntimeError("an INSERT takes its values in another order than COLUMNS")
    session.connection().exec_driver_sql(statement.string, rows)


async def _facilitators(*, database: Database, now: datetime) -> list[Facilitator]:
    """The active facilitators; demo ones are added first when there are none."""
    async with database.session() as session:
        active = list(await session.scalars(select(Facilitator).where(Facilitator.active)))
    if active:
        return active

    return [
        await database.write(
            save_facilitator,
            facilitator_id=None,
            data=FacilitatorInput.model_validate(spec),
            now=now,
        )
        for spec in FACILITATORS
    ]


async def insert_demo_leads(
    *,
    database: Database,
    count: int,
    now: datetime,
    days: int = 365,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert `count` demo leads spread over the last `days` days; returns how many.
    `progress` is told after each batch how many leads it inserted."""
    rng = random.Random(seed)  # noqa: S311 - fake data, not security
    await database.write(store_legal_texts)
    facilitators = await _facilitators(database=database, now=now)
    demos = _leads(count, now=now, days=days, facilitators=facilitators, rng=rng)
    done = 0
    while done < count:
        batch = [demo for _, demo in zip(range(BATCH), demos, strict=False)]
        await database.write(
            _insert_batch, demos=batch, now=now, sqlite=database.is_sqlite, seed=rng.getrandbits(32)
        )
        done += len(batch)
        if progress is not None:
            progress(len(batch))
    if not database.is_sqlite:
        # What autovacuum would do some minutes later: until then, PostgreSQL plans the desk's
        # queries for empty tables (a search that matches nothing took 700 ms, not 30).
        await database.write(_analyze)
    return done


def _analyze(session: Session) -> None:
    session.execute(text("ANALYZE"))
