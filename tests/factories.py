"""Builders for test data: a valid quote, a form submission as a browser makes it, stored rows,
and complete leads as rich as real ones (through the real submit, or as rows in bulk)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, make_msgid
from html import escape, unescape
from typing import Any
from urllib.parse import quote_plus

from email_validator import validate_email
from httpx import Response
from litestar.testing import AsyncTestClient
from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import selectinload

from service.content.documents import LEGAL_KINDS, legal_texts
from service.db import Database
from service.facilitators import FacilitatorInput, save_facilitator
from service.leads.consents import head as consent_chain_head
from service.leads.consents import link as link_consents
from service.leads.consents import new_record as consent_record
from service.models import Base, Consent, Facilitator, Lead, LeadEvent, LegalText, OutboxMessage
from tests.conftest import make_settings


def quote_data(**overrides: Any) -> dict[str, Any]:
    """A complete, valid quote request as JSON."""
    data: dict[str, Any] = {
        "full_name": "Ana Peeters",
        "email": "ana.peeters@example.org",
        "phone": "+32 470 12 34 56",
        "country": "BE",
        "language": "nl",
        "patient_relation": "family",
        "contact_method": "email",
        "stroke_type": "ischemic",
        "stroke_date": "2025-03",
        "medical_summary": "Left side weakness since the stroke; walking with a cane.",
        "travel_window": "Spring 2027",
        "budget": "EUR 20,000",
        "consent_disclaimer": True,
        "consent_health_data": True,
        "consent_marketing": False,
    }
    data.update(overrides)
    return data


def quote_form(**overrides: Any) -> dict[str, str]:
    """The same request as the form posts it: strings, ticked boxes as "on", unticked absent."""
    form: dict[str, str] = {}
    for name, value in quote_data(**overrides).items():
        if value is True:
            form[name] = "on"
        elif value not in (False, None):
            form[name] = str(value)
    return form


def hidden_inputs(html: str) -> dict[str, str]:
    """The hidden fields of the page's form (CSRF token, submission id, render time, UTM),
    with their values unescaped as a browser posts them back."""
    fields = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = unescape(value.group(1)) if value else ""
    return fields


async def open_form(client: AsyncTestClient, url: str = "/", **headers: str) -> dict[str, str]:  # type: ignore[type-arg]
    page = await client.get(url, headers=headers)
    assert page.status_code == 200
    return hidden_inputs(page.text)


async def submit_form(
    client: AsyncTestClient,  # type: ignore[type-arg]
    form: dict[str, str] | None = None,
    hidden: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """GET the landing page, then POST the form with its hidden fields, as a browser does."""
    hidden = hidden if hidden is not None else await open_form(client)
    return await client.post("/quote", data={**hidden, **(form or quote_form())}, headers=headers)


async def stored_leads(database_url: str) -> list[Lead]:
    """Every lead in the database, oldest first, with its consents (and texts) and events."""
    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            result = await session.scalars(
                select(Lead)
                .options(selectinload(Lead.consents).selectinload(Consent.legal_text))
                .options(selectinload(Lead.events))
                .order_by(Lead.created_at)
            )
            return list(result)
    finally:
        await engine.dispose()


async def outbox_rows(database_url: str) -> list[OutboxMessage]:
    """Every outbox row, in the order queued."""
    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    finally:
        await engine.dispose()


_counter = iter(range(1, 10**9))


def lead_row(**overrides: Any) -> Lead:
    """A stored lead as the form would have left it, with overrides."""
    n = next(_counter)
    now = overrides.pop("created_at", None) or datetime.now(UTC)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "reference": f"Q-T{n:05d}",
        "submission_id": uuid.uuid4().hex,
        "status": "new",
        "source": "form",
        "full_name": f"Patient {n}",
        "email": f"patient{n}@example.org",
        "phone": "+32470123456",
        "country": "BE",
        "language": "en",
        "treatment": "Stem cell therapy for stroke rehabilitation",
        "destination": "Belgium",
        "contact_method": "email",
        "created_at": now,
        "updated_at": now,
    }
    values.update(overrides)
    return Lead(**values)


def facilitator_row(**overrides: Any) -> Facilitator:
    n = next(_counter)
    values: dict[str, Any] = {"name": f"Clinic {n}", "email": f"clinic{n}@example.com"}
    values.update(overrides)
    return Facilitator(**values)


def outbox_row(lead: Lead | None, **overrides: Any) -> OutboxMessage:
    values: dict[str, Any] = {
        "lead_id": lead.id if lead else None,
        "kind": "patient_confirmation",
        "recipient": lead.email if lead else "someone@example.org",
        "subject": "We received your request",
        "text": "Thank you, we received your request.",
        "html": "<p>Thank you, we <b>received</b> your request.</p>",
        "message_id": f"<{uuid.uuid4().hex}@test>",
        "status": "sent",
    }
    values.update(overrides)
    return OutboxMessage(**values)


async def insert(database_url: str, *rows: Any) -> None:
    """Store rows directly (leads, facilitators, outbox messages...), in the order given."""
    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            for row in rows:
                session.add(row)
                await session.flush()
            await session.commit()
    finally:
        await engine.dispose()


async def add_facilitators(database_url: str, *specs: dict[str, Any]) -> list[Facilitator]:
    """Facilitators through the same service the `quote-desk facilitator add` command uses."""
    database = Database(make_settings(database_url))
    try:
        return [
            await database.write(
                save_facilitator,
                facilitator_id=None,
                data=FacilitatorInput.model_validate(spec),
                now=datetime.now(UTC),
            )
            for spec in specs
        ]
    finally:
        await database.dispose()


async def update_row(database_url: str, model: Any, row_id: Any, **values: Any) -> None:
    """Change stored values directly (what no route would write, e.g. hostile stored HTML)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(update(model).where(model.id == row_id).values(**values))
    finally:
        await engine.dispose()


async def fetch_all(database_url: str, model: Any) -> list[Any]:
    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            return list(await session.scalars(select(model)))
    finally:
        await engine.dispose()


async def every_value(database_url: str, *, skip: tuple[str, ...] = ()) -> str:
    """Every value of every row of every table (but `skip`), as one text: to look for what
    must be gone, or to see that nothing changed."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            values = []
            for table in Base.metadata.sorted_tables:
                if table.name in skip:
                    continue
                for row in await conn.execute(select(table)):
                    values.extend(str(value) for value in row)
            return "\n".join(values)
    finally:
        await engine.dispose()


# Complete leads --------------------------------------------------------------------------------
# A lead as the desk holds it after a few hours of real life: submitted with tracking values,
# routed to a facilitator, its consents recorded against the stored legal texts, its emails in
# every outbox state, and a coordinator's move, note and two reassignments on its timeline.
# The values are what real patients and real links bring: accents, CJK and right-to-left
# scripts, apostrophes, commas, quotes, line breaks, and cells a spreadsheet reads as formulas.

COORDINATOR = "ingrid.sorensen@desk.example"
OPERATOR = "ops@desk.example"
USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

# Each patient as they type the form; `stored_phone` is what validation makes of `phone`.
PEOPLE: tuple[dict[str, str], ...] = (
    {
        "full_name": "Zoë O'Brien-Ní Bhriain",
        "email": "zoe.obrien@example.ie",
        "phone": "+353 85 123 4567",
        "stored_phone": "+353851234567",
        "country": "IE",
        "language": "en",
        "patient_relation": "self",
        "contact_method": "whatsapp",
        "stroke_type": "ischemic",
        "stroke_date": "2024-11",
        "medical_summary": (
            "Left side weak since the stroke, can't grip a cup.\n"
            'Walks 200 m with a cane; "good days" and bad days, mostly tired.'
        ),
        "travel_window": "Spring 2027, after Easter",
        "budget": "EUR 20,000 – 25,000",
    },
    {
        "full_name": "José-María Núñez, Jr.",
        "email": "jose-maria.nunez@exämple.org",
        "phone": "+34 612 34 56 78",
        "stored_phone": "+34612345678",
        "country": "ES",
        "language": "fr",
        "patient_relation": "family",
        "contact_method": "phone",
        "stroke_type": "hemorrhagic",
        "stroke_date": "2025-02",
        "medical_summary": (
            "=Mon père, 71 ans ; AVC hémorragique en février.\r\n"
            "Il parle lentement, comprend tout. Kiné 3×/semaine à Séville."
        ),
        "travel_window": "Dès que possible, idéalement en octobre",
        "budget": "+/- 15.000 €",
    },
    {
        "full_name": "李小龍",
        "email": "xiaolong.li@example.com",
        "phone": "+886 912 345 678",
        "stored_phone": "+886912345678",
        "country": "TW",
        "language": "en",
        "patient_relation": "other",
        "contact_method": "email",
        "stroke_type": "unknown",
        "stroke_date": "2023-06",
        "medical_summary": "中风后左侧无力，说话不清楚。\n希望了解干细胞治疗的费用和疗程。",
        "travel_window": "2027年3月",
        "budget": "-",
    },
    {
        "full_name": "محمد بن راشد العتيبي",
        "email": "m.alotaibi@example.ae",
        "phone": "+971 50 123 4567",
        "stored_phone": "+971501234567",
        "country": "AE",
        "language": "en",
        "patient_relation": "self",
        "contact_method": "whatsapp",
        "stroke_type": "ischemic",
        "stroke_date": "2025-01",
        "medical_summary": (
            "ضعف في الجانب الأيمن بعد السكتة الدماغية.\n"
            "Right side weakness; I read English, my wife speaks French."
        ),
        "travel_window": "@ the earliest in May",
        "budget": "AED 90,000",
    },
    {
        "full_name": "שרה כהן-לוי",
        "email": "sara.cohen@example.co.il",
        "phone": "+972 50-234-5678",
        "stored_phone": "+972502345678",
        "country": "IL",
        "language": "en",
        "patient_relation": "family",
        "contact_method": "email",
        "stroke_type": "ischemic",
        "stroke_date": "2024-08",
        "medical_summary": "אמא שלי, בת 68.\nאפזיה קלה, הולכת עם הליכון.",
        "travel_window": "Flexible, not during the holidays",
        "budget": "Not sure yet, insurance may help",
    },
    {
        "full_name": 'Anne "Nan" de Vries',
        "email": "anne.devries@example.nl",
        "phone": "06 12345678",
        "stored_phone": "+31612345678",
        "country": "NL",
        "language": "nl",
        "patient_relation": "self",
        "contact_method": "phone",
        "stroke_type": "hemorrhagic",
        "stroke_date": "2024-03",
        "medical_summary": (
            'Beroerte in maart, "licht" volgens de neuroloog.\n'
            "Arm gaat vooruit; spreken gaat nog traag, lezen lukt niet."
        ),
        "travel_window": "Na de zomer",
        "budget": "€ 10.000, hooguit 12.000",
    },
    {
        "full_name": "Ἀλέξανδρος Παπαδόπουλος",
        "email": "alexandros.papadopoulos@example.gr",
        "phone": "+30 691 234 5678",
        "stored_phone": "+306912345678",
        "country": "GR",
        "language": "de",
        "patient_relation": "family",
        "contact_method": "email",
        "stroke_type": "ischemic",
        "stroke_date": "2022-12",
        "medical_summary": "Mein Vater, 74. Schlaganfall vor 2 Jahren;\nRollstuhl, Schlucken OK.",
        "travel_window": "Herbst 2026 – Frühjahr 2027",
        "budget": "EUR 30.000",
    },
    {
        "full_name": "Đặng Thị Ngọc Hân",
        "email": "ngochan.dang@example.com",
        "phone": "+84 91 234 56 78",
        "stored_phone": "+84912345678",
        "country": "VN",
        "language": "fr",
        "patient_relation": "self",
        "contact_method": "email",
        "stroke_type": "unknown",
        "stroke_date": "2025-05",
        "medical_summary": (
            "Faiblesse du bras gauche ; vertiges le matin.\nJe voyage avec ma fille."
        ),
        "travel_window": "Janvier",
        "budget": "@ discuter",
    },
    {
        "full_name": "Søren Ærø-Kierkegård",
        "email": "soren@ærø.example",
        "phone": "+45 20 12 34 56",
        "stored_phone": "+4520123456",
        "country": "DK",
        "language": "de",
        "patient_relation": "other",
        "contact_method": "phone",
        "stroke_type": "ischemic",
        "stroke_date": "2024-01",
        "medical_summary": 'Für meinen Nachbarn (kein Internet).\nRechte Hand: "kaum Kraft".',
        "travel_window": "Egal",
        "budget": "DKK 150.000",
    },
    {
        "full_name": "Jean-Luc D'Arcy-Lefèvre",
        "email": "jl.darcy@example.be",
        "phone": "0470 12 34 56",
        "stored_phone": "+32470123456",
        "country": "BE",
        "language": "fr",
        "patient_relation": "self",
        "contact_method": "phone",
        "stroke_type": "hemorrhagic",
        "stroke_date": "2025-04",
        "medical_summary": (
            "Hémiplégie droite, rééducation à Liège depuis avril.\n\nQuestions : durée ? coût ?"
        ),
        "travel_window": "Octobre, novembre",
        "budget": "-5 % si possible ? sinon 18 000 €",
    },
)
TREATMENTS = (
    "Stem cell therapy for stroke rehabilitation",
    "Thérapie par cellules souches (AVC)",
    "Stamceltherapie na een beroerte, intensief",
)
DESTINATIONS = ("Belgium", "België / Belgique", "Bruxelles, Belgique")
# What the landing page's URL and the Referer header bring; anyone can write a link.
TRACKING: tuple[dict[str, str], ...] = (
    {
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "stroke-rehab_2026 «spring»",
        "utm_term": "stamcel, beroerte",
        "utm_content": 'banner "lente"',
        "referrer": "https://www.google.be/search?q=stamcel+beroerte+belgi%C3%AB&hl=nl",
    },
    {
        "utm_source": "facebook",
        "utm_medium": "cpc",
        "utm_campaign": "=cmd|' /C calc'!A0",
        "utm_term": "AVC, cellules souches",
        "utm_content": "carrousel n°2 — l'article",
        "referrer": "https://l.facebook.com/l.php?u=https%3A%2F%2Fmagazine.example%2F",
    },
    {
        "utm_source": "微信",
        "utm_medium": "social",
        "utm_campaign": "中风康复",
        "utm_term": "干细胞",
        "utm_content": "文章",
        "referrer": "https://weixin.qq.example/s/AbC-123_xyz",
    },
)
CAST: tuple[dict[str, Any], ...] = (
    # Serves every request: new complete leads are routed to it.
    {"name": "Clinique Saint-Luc — Bruxelles", "email": "devis@saint-luc.example", "country": "BE"},
    # Serve a treatment no complete lead asks for: chosen only by a coordinator's reassignment.
    {
        "name": "Reha-Zentrum „Müller & Söhne“, Köln",
        "email": "anfragen@reha-mueller.example",
        "languages": ["de", "nl"],
        "treatments": ["Robot-assisted gait training"],
        "country": "DE",
    },
    {
        "name": "مركز الشفاء 'Al-Shifa' · 康复中心",
        "email": "care@al-shifa.example",
        "languages": ["en", "fr"],
        "treatments": ["Robot-assisted gait training"],
    },
)
STATES = ("pending", "sending", "sent", "retry", "dead")


@dataclass(frozen=True, slots=True)
class Cast:
    """The facilitators in a complete lead's story: routed to `first`, reassigned to `second`,
    then to `third`, who has the lead now."""

    first: Facilitator
    second: Facilitator
    third: Facilitator


@dataclass(frozen=True, slots=True)
class CompleteLead:
    id: uuid.UUID
    reference: str
    full_name: str
    email: str
    created_at: datetime
    emails: dict[str, int]  # the outbox id of its email in each state


async def complete_cast(database_url: str) -> Cast:
    """The three facilitators of the story, stored (a new three on each call)."""
    n = next(_counter)
    rows = [
        facilitator_row(**{**spec, "email": spec["email"].replace("@", f"+{n}@")}) for spec in CAST
    ]
    await insert(database_url, *rows)
    return Cast(*rows)


def complete_values(n: int, **overrides: Any) -> dict[str, Any]:
    """Patient number n of the rotation: their form with every field filled, as posted."""
    person = {k: v for k, v in PEOPLE[n % len(PEOPLE)].items() if k != "stored_phone"}
    values: dict[str, Any] = {
        **person,
        "treatment": TREATMENTS[n % len(TREATMENTS)],
        "destination": DESTINATIONS[n % len(DESTINATIONS)],
        "consent_disclaimer": True,
        "consent_health_data": True,
        "consent_marketing": n % 2 == 0,
        **TRACKING[n % len(TRACKING)],
    }
    values.update(overrides)
    return values


def _reference(n: int) -> str:
    """A reference of the real form (Q- and 6 of 31 characters), unique for each n."""
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    n = (n * 7919 + 104729) % len(alphabet) ** 6  # 7919 is prime: no two n give the same
    digits = ""
    for _ in range(6):
        n, digit = divmod(n, len(alphabet))
        digits = alphabet[digit] + digits
    return "Q-" + digits


async def insert_complete_leads(
    database_url: str,
    count: int = 1,
    *,
    cast: Cast | None = None,
    times: list[datetime] | None = None,
    patient: int | None = None,
    **overrides: Any,
) -> list[CompleteLead]:
    """`count` complete leads as direct rows, in batches (the same shape as a submitted one
    given the same history: see `submit_complete_lead`). By default they were created 7
    minutes apart, the newest 3 hours ago, so that their whole history is in the past; the
    patients take turns unless `patient` picks one."""
    cast = cast or await complete_cast(database_url)
    if times is None:
        newest = datetime.now(UTC) - timedelta(hours=3)
        times = [newest - timedelta(minutes=7 * (count - 1 - i)) for i in range(count)]
    assert len(times) == count
    leads = []
    for created in times:
        n = next(_counter)
        values = complete_values(n if patient is None else patient, **overrides)
        person = PEOPLE[(n if patient is None else patient) % len(PEOPLE)]
        if "phone" not in overrides:
            values["phone"] = person["stored_phone"]
        values["email"] = validate_email(values["email"], check_deliverability=False).normalized
        leads.append(
            {
                **{k: v for k, v in values.items() if not k.startswith("consent_")},
                "id": uuid.uuid4(),
                "reference": _reference(n),
                "submission_id": uuid.uuid4().hex,
                "status": "new",
                "source": "form",
                "facilitator_id": cast.first.id,
                "created_at": created,
                "updated_at": created,
                "_consents": {k: values[f"consent_{k}"] for k in LEGAL_KINDS},
            }
        )
    engine = create_async_engine(database_url)
    try:
        done: list[CompleteLead] = []
        for start in range(0, count, 500):
            batch = leads[start : start + 500]
            async with engine.begin() as conn:
                await conn.run_sync(_store_legal_texts)
                await conn.run_sync(_submitted, leads=batch, cast=cast)
                done += await conn.run_sync(_history, leads=batch, cast=cast)
        return done
    finally:
        await engine.dispose()


async def submit_complete_lead(
    client: AsyncTestClient,  # type: ignore[type-arg]
    database_url: str,
    *,
    cast: Cast,
    patient: int | None = None,
    **overrides: Any,
) -> CompleteLead:
    """A complete lead whose first part is the real submit: the landing page opened from a
    tracked link with a Referer, the form posted with every field (lead, consents, routing to
    `cast.first`, both emails rendered and queued); then the same history as the direct rows.
    No other active facilitator may serve the request, so that routing picks `cast.first`."""
    values = complete_values(next(_counter) if patient is None else patient, **overrides)
    tracking = {k: values.pop(k) for k in (*UTM_QUERY, "referrer")}
    query = "&".join(f"{k}={quote_plus(tracking[k])}" for k in UTM_QUERY)
    hidden = await open_form(
        client, f"/?{query}", referer=tracking["referrer"], **{"user-agent": USER_AGENT}
    )
    form = {name: "on" if v is True else str(v) for name, v in values.items() if v is not False}
    response = await client.post(
        "/quote", data={**hidden, **form}, headers={"user-agent": USER_AGENT}
    )
    assert response.status_code == 303, response.text
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            row = (
                await conn.execute(
                    select(LEADS).where(LEADS.c.submission_id == hidden["submission_id"])
                )
            ).one()
            assert row.facilitator_id == cast.first.id, "another facilitator serves this lead"
            (done,) = await conn.run_sync(_history, leads=[dict(row._mapping)], cast=cast)
        return done
    finally:
        await engine.dispose()


UTM_QUERY = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
LEADS: Table = Lead.__table__  # type: ignore[assignment]
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
EVENTS: Table = LeadEvent.__table__  # type: ignore[assignment]
CONSENTS: Table = Consent.__table__  # type: ignore[assignment]


def _store_legal_texts(conn: Connection) -> None:
    """The texts a consent points to, as the app stores them when it starts."""
    table: Table = LegalText.__table__  # type: ignore[assignment]
    stored = set(conn.scalars(select(table.c.sha256)))
    missing = [
        {"sha256": t.sha256, "kind": t.kind, "version": t.version, "label": t.label, "body": t.body}
        for t in legal_texts().values()
        if t.sha256 not in stored
    ]
    if missing:
        conn.execute(sa_insert(table), missing)


def _submitted(conn: Connection, *, leads: list[dict[str, Any]], cast: Cast) -> None:
    """What the submit writes: the lead, its consents, `created` and `routed`, both emails."""
    texts = legal_texts()
    conn.execute(sa_insert(LEADS), [{k: v for k, v in x.items() if k[0] != "_"} for x in leads])
    records = [
        consent_record(
            lead_id=lead["id"],
            kind=kind,
            granted=granted,
            legal_text_sha256=texts[kind].sha256,
            ip=f"2001:db8:{i % 65536:x}::{i // 65536 + 1:x}",
            user_agent=USER_AGENT,
            now=lead["created_at"],
        )
        for i, lead in enumerate(leads)
        for kind, granted in lead["_consents"].items()
    ]
    # Linked into the consent chain like the submit's, so `consent verify` passes.
    conn.execute(sa_insert(CONSENTS), link_consents(records, prev=consent_chain_head(conn)))
    events = []
    for lead in leads:
        t0 = lead["created_at"]
        events += [
            {
                "lead_id": lead["id"],
                "kind": "created",
                "data": {"source": "form"},
                "created_at": t0,
            },
            {
                "lead_id": lead["id"],
                "kind": "routed",
                "data": {
                    "reason": f"speaks {lead['language']}, fewest recent leads for its weight",
                    "candidates": 1,
                    "language_match": True,
                    "tied": 1,
                    "recent_leads": 0,
                    "weight": 1,
                    "facilitator_id": cast.first.id,
                    "facilitator": cast.first.email,
                    "facilitator_name": cast.first.name,
                    "language": lead["language"],
                },
                "created_at": t0,
            },
        ]
    conn.execute(sa_insert(EVENTS), events)
    conn.execute(
        sa_insert(OUTBOX),
        [
            email
            for lead in leads
            for email in (
                _email("facilitator_new_lead", lead, to=cast.first, at=lead["created_at"]),
                _email("patient_confirmation", lead, at=lead["created_at"]),
            )
        ],
    )


def _history(conn: Connection, *, leads: list[dict[str, Any]], cast: Cast) -> list[CompleteLead]:
    """Everything after the submit, the same for submitted and direct leads: the worker's
    outcomes (patient email sent; the first facilitator's refused, retried by a coordinator,
    then given up, which queues an operator alert), a status move, a note, and two
    reassignments whose emails are left in `retry` and `sending`."""
    queued = {
        (row.lead_id, row.kind): dict(row._mapping)
        for row in conn.execute(
            select(OUTBOX.c.id, OUTBOX.c.lead_id, OUTBOX.c.kind, OUTBOX.c.message_id).where(
                OUTBOX.c.lead_id.in_([lead["id"] for lead in leads])
            )
        )
    }
    later: list[dict[str, Any]] = []
    for lead in leads:
        t0 = lead["created_at"]
        later += [
            _email("alert_dead_email", lead, at=t0 + timedelta(minutes=10, seconds=2)),
            _email("facilitator_new_lead", lead, to=cast.second, at=t0 + timedelta(minutes=62)),
            _email("facilitator_new_lead", lead, to=cast.third, at=t0 + timedelta(hours=2)),
        ]
    conn.execute(sa_insert(OUTBOX), later)
    new_ids = dict(
        conn.execute(
            select(OUTBOX.c.message_id, OUTBOX.c.id).where(
                OUTBOX.c.message_id.in_([m["message_id"] for m in later])
            )
        ).all()
    )
    for message in later:
        message["id"] = new_ids[message["message_id"]]
    updates, events, lead_updates, done = [], [], [], []
    for i, lead in enumerate(leads):
        emails = {
            "sent": queued[(lead["id"], "patient_confirmation")],
            "dead": queued[(lead["id"], "facilitator_new_lead")],
            "pending": later[3 * i],
            "retry": later[3 * i + 1],
            "sending": later[3 * i + 2],
        }
        story = _Story(lead=lead, cast=cast, emails=emails)
        events += story.events()
        updates += story.outbox_updates()
        lead_updates.append(
            {
                "b_id": lead["id"],
                "status": "contacted",
                "facilitator_id": cast.third.id,
                "updated_at": story.at(hours=2),
            }
        )
        done.append(
            CompleteLead(
                id=lead["id"],
                reference=lead["reference"],
                full_name=lead["full_name"],
                email=lead["email"],
                created_at=lead["created_at"],
                emails={state: message["id"] for state, message in emails.items()},
            )
        )
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == bindparam("b_id"))
        .values({c: bindparam(c) for c in updates[0] if c != "b_id"}),
        updates,
    )
    conn.execute(sa_insert(EVENTS), events)
    conn.execute(
        update(LEADS)
        .where(LEADS.c.id == bindparam("b_id"))
        .values({c: bindparam(c) for c in lead_updates[0] if c != "b_id"}),
        lead_updates,
    )
    return done


ANSWER_LOOP_COLUMNS = frozenset({"responded_at", "overdue_since"})
ERASURE_COLUMNS = frozenset({"erased_at"})  # empty until the patient's data is erased
# A first request follows up nothing (tests/leads/test_submit.py builds follow-ups).
FIRST_REQUEST_COLUMNS = frozenset({"follow_up_of"})
REFUSED_FIRST = "4.7.0 Try again later, closing connection."
REFUSED_AGAIN = '4.3.0 Mail server temporarily rejected message, "greylisted"'
NOTE = "Rappelé — elle préfère WhatsApp, \"après 18 h\".\nسأتصل غدًا; 明天再打, 'ok'?\n=2+3"


@dataclass(frozen=True, slots=True)
class _Story:
    """One complete lead's history after its submit, as timeline events and outbox outcomes."""

    lead: dict[str, Any]
    cast: Cast
    emails: dict[str, dict[str, Any]]  # by final state

    def at(self, **delta: float) -> datetime:
        created: datetime = self.lead["created_at"]
        return created + timedelta(**delta)

    @property
    def refused_finally(self) -> str:
        return f"5.1.1 <{self.cast.first.email}>: Recipient address rejected: User unknown"

    def _email(self, kind: str, state: str, when: datetime, **data: Any) -> dict[str, Any]:
        message = self.emails[state]
        return {
            "lead_id": self.lead["id"],
            "kind": kind,
            "actor": data.pop("actor", None),
            "data": {
                "outbox_id": message["id"],
                "email": message["kind"],
                "message_id": message["message_id"],
                **data,
            },
            "created_at": when,
        }

    def _move(self, kind: str, when: datetime, **data: Any) -> dict[str, Any]:
        return {
            "lead_id": self.lead["id"],
            "kind": kind,
            "actor": COORDINATOR,
            "data": data,
            "created_at": when,
        }

    def _reassigned(self, when: datetime, old: Facilitator, new: Facilitator) -> dict[str, Any]:
        return self._move(
            "reassigned",
            when,
            from_facilitator_id=old.id,
            to_facilitator_id=new.id,
            to_facilitator=new.name,
        )

    def events(self) -> list[dict[str, Any]]:
        at, cast = self.at, self.cast
        return [
            self._email("email_sent", "sent", at(seconds=3), attempt=1),
            self._email(
                "email_failed",
                "dead",
                at(seconds=3),
                attempt=1,
                outcome="retry",
                code=421,
                error=REFUSED_FIRST,
                next_attempt_at=at(seconds=63).isoformat(),
            ),
            self._email("email_retry", "dead", at(minutes=10), actor=COORDINATOR, was="retry"),
            self._email(
                "email_failed",
                "dead",
                at(minutes=10, seconds=2),
                attempt=2,
                outcome="dead",
                code=550,
                error=self.refused_finally,
            ),
            self._move("status_changed", at(minutes=60), **{"from": "new", "to": "contacted"}),
            self._move("note", at(minutes=61), text=NOTE),
            self._reassigned(at(minutes=62), cast.first, cast.second),
            self._email(
                "email_failed",
                "retry",
                at(minutes=62, seconds=3),
                attempt=1,
                outcome="retry",
                code=451,
                error=REFUSED_AGAIN,
                next_attempt_at=at(minutes=67, seconds=3).isoformat(),
            ),
            self._reassigned(at(hours=2), cast.second, cast.third),
        ]

    def outbox_updates(self) -> list[dict[str, Any]]:
        at = self.at
        settled = {"lease_expires_at": None, "lease_token": None}
        return [
            {
                "b_id": self.emails["sent"]["id"],
                "status": "sent",
                "attempts": 1,
                "sent_at": at(seconds=3),
                "last_error_code": None,
                "last_error": None,
                "next_attempt_at": at(),
                **settled,
                "updated_at": at(seconds=3),
            },
            {
                "b_id": self.emails["dead"]["id"],
                "status": "dead",
                "attempts": 2,
                "sent_at": None,
                "last_error_code": 550,
                "last_error": self.refused_finally,
                "next_attempt_at": at(minutes=10),
                **settled,
                "updated_at": at(minutes=10, seconds=2),
            },
            {
                "b_id": self.emails["retry"]["id"],
                "status": "retry",
                "attempts": 1,
                "sent_at": None,
                "last_error_code": 451,
                "last_error": REFUSED_AGAIN,
                "next_attempt_at": at(minutes=67, seconds=3),
                **settled,
                "updated_at": at(minutes=62, seconds=3),
            },
            {
                "b_id": self.emails["sending"]["id"],
                "status": "sending",
                "attempts": 1,
                "sent_at": None,
                "last_error_code": None,
                "last_error": None,
                "next_attempt_at": at(hours=2),
                "lease_expires_at": at(hours=2, minutes=5),
                "lease_token": uuid.uuid4().hex,
                "updated_at": at(hours=2),
            },
        ]


def _email(
    kind: str, lead: dict[str, Any], *, at: datetime, to: Facilitator | None = None
) -> dict[str, Any]:
    """An outbox row as queued: who, what (short, but with the lead's own words), headers."""
    name, reference = lead["full_name"], lead["reference"]
    if kind == "facilitator_new_lead":
        assert to is not None
        recipient, to_header = to.email, _mailbox(to.name, to.email)
        subject = f"[{reference}] New quote request: {lead['treatment']} ({name})"
        text = (
            f"New quote request {reference}.\n\nName: {name}\nEmail: {lead['email']}\n"
            f"Treatment: {lead['treatment']}, {lead['destination']}\n\n"
            f"THE PATIENT'S SITUATION, AS WRITTEN\n{lead['medical_summary']}\n"
        )
        headers = {"Reply-To": _mailbox(name, lead["email"])}
    elif kind == "patient_confirmation":
        recipient, to_header = lead["email"], _mailbox(name, lead["email"])
        subject = f"We have received your request ({reference})"
        text = f"Dear {name},\n\nYour reference: {reference}.\n\n{lead['medical_summary']}\n"
        headers = {"Auto-Submitted": "auto-generated", "Content-Language": lead["language"]}
    else:
        recipient, to_header = OPERATOR, OPERATOR
        subject = f"Email given up: facilitator_new_lead for {reference}"
        text = f"The facilitator's email for {reference} was refused (550) and given up.\n"
        headers = {"Auto-Submitted": "auto-generated"}
    message_id = make_msgid(idstring="quote", domain="quote-desk.example")
    return {
        "lead_id": lead["id"],
        "kind": kind,
        "recipient": recipient,
        "subject": subject,
        "text": text,
        "html": "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line),
        "headers": {
            "From": "Quote Desk <quotes@quote-desk.example>",
            "To": to_header,
            "Date": format_datetime(at),
            "Message-ID": message_id,
            **headers,
        },
        "message_id": message_id,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
        "updated_at": at,
    }


def _mailbox(name: str, address: str) -> str:
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>'


async def lead_shape(database_url: str, lead_id: uuid.UUID) -> dict[str, Any]:
    """What a lead is made of, without its values: the fields filled, whether it is routed,
    its consents against the stored texts, its timeline's kinds, actors and data keys, its
    emails' kinds, states and headers."""
    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            lead = await session.scalar(
                select(Lead)
                .where(Lead.id == lead_id)
                .options(
                    selectinload(Lead.consents).selectinload(Consent.legal_text),
                    selectinload(Lead.events),
                    selectinload(Lead.facilitator),
                )
            )
            assert lead is not None
            emails = list(
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.lead_id == lead_id)
                    .order_by(OutboxMessage.id)
                )
            )
    finally:
        await engine.dispose()
    return {
        # The answer loop's own columns stay empty: the story's facilitator has not answered
        # through their link yet (tests/leads/test_responses.py builds those leads); nor is
        # the lead erased (tests/leads/test_privacy_pages.py erases them).
        "empty_fields": sorted(
            c.key
            for c in LEADS.columns
            if getattr(lead, c.key) in (None, "")
            and c.key not in ANSWER_LOOP_COLUMNS | FIRST_REQUEST_COLUMNS | ERASURE_COLUMNS
        ),
        "status": lead.status,
        "facilitator": lead.facilitator is not None and lead.facilitator.active,
        "consents": [
            (c.kind, c.granted, c.legal_text.sha256 == legal_texts()[c.kind].sha256, bool(c.ip))
            for c in lead.consents
        ],
        "events": [(e.kind, e.actor is not None, sorted(e.data)) for e in lead.events],
        "emails": [
            (
                m.kind,
                m.status,
                m.attempts,
                m.last_error is not None,
                m.lease_token is not None,
                m.sent_at is not None,
                sorted(m.headers),
            )
            for m in emails
        ],
    }
