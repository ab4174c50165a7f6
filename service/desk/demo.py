"""Realistic fake leads for demos, tests and the 1,000,000-lead measurement, inserted in
batches with executemany. Demo leads carry no consent records: nobody consented to anything."""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from service.db import Database
from service.leads.pipeline import LeadStatus
from service.models import Facilitator, Lead

BATCH = 5000
LEADS: Table = Lead.__table__  # type: ignore[assignment]

FIRST = {
    "en": ["James", "Olivia", "Harry", "Amelia", "George", "Emily", "Jack", "Grace", "Noah"],
    "fr": ["Marie", "Jean", "Camille", "Louis", "Chloé", "Hugo", "Léa", "Théo", "Élise", "Luc"],
    "nl": ["Jan", "Anke", "Pieter", "Lotte", "Bram", "Sanne", "Wim", "Ilse", "Joris", "Femke"],
    "de": ["Lukas", "Anna", "Jonas", "Lena", "Felix", "Mia", "Paul", "Hanna", "Max", "Greta"],
}
LAST = {
    "en": ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright"],
    "fr": ["Martin", "Bernard", "Dubois", "Lambert", "Leroy", "Moreau", "Girard", "Fontaine"],
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
STATUS_WEIGHTS = {
    LeadStatus.new: 30,
    LeadStatus.contacted: 25,
    LeadStatus.quoted: 15,
    LeadStatus.won: 6,
    LeadStatus.lost: 14,
    LeadStatus.spam: 6,
    LeadStatus.duplicate: 4,
}
SUMMARIES = [
    "Weakness on the left side since the stroke; walks with a cane.",
    "Speech is difficult; understands well. Physiotherapy twice a week at home.",
    "Right arm barely moves. Looking for an intensive programme.",
    "Recovered walking, still very tired. Asking on behalf of my father.",
]
UTM_SOURCES = [None, None, "newsletter", "facebook", "google", "partner-site"]


def _leads(
    count: int, *, now: datetime, days: int, facilitators: list[int], rng: random.Random
) -> Iterator[dict[str, Any]]:
    run = secrets.token_hex(2).upper()
    languages = list(LANGUAGE_WEIGHTS)
    weights = list(LANGUAGE_WEIGHTS.values())
    statuses, status_weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
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
        yield {
            "id": uuid.UUID(int=(int(created.timestamp() * 1000) << 80) | (prefix << 48) | n),
            "reference": f"D{run}{n:08d}",
            "submission_id": f"demo:{run}:{n}",
            "status": rng.choices(statuses, status_weights)[0],
            "source": "form" if rng.random() < 0.9 else "api",
            "full_name": f"{first} {last}",
            "email": f"{first}.{last}.{n}@example.org".lower().replace(" ", ""),
            "phone": f"+32470{rng.randrange(100000, 999999)}",
            "country": rng.choice(COUNTRIES[language]),
            "language": language,
            "patient_relation": rng.choice(["self", "family", "family", "other"]),
            "treatment": rng.choice(TREATMENTS),
            "destination": "Belgium",
            "stroke_type": rng.choice(["ischemic", "ischemic", "hemorrhagic", "unknown"]),
            "stroke_date": f"{rng.randrange(2019, 2027)}-{rng.randrange(1, 13):02d}",
            "medical_summary": rng.choice(SUMMARIES),
            "travel_window": rng.choice([None, "Next spring", "Within 3 months", "Flexible"]),
            "budget": rng.choice([None, "EUR 10,000", "EUR 20,000", "Not sure yet"]),
            "contact_method": rng.choice(["email", "phone", "whatsapp"]),
            "utm_source": utm,
            "utm_medium": "email" if utm == "newsletter" else ("cpc" if utm else None),
            "utm_campaign": "stroke-2026" if utm else None,
            "utm_term": None,
            "utm_content": None,
            "referrer": None,
            "facilitator_id": rng.choice(facilitators)
            if facilitators and rng.random() < 0.92
            else None,
            "created_at": created,
            "updated_at": created,
        }


def _insert_batch(session: Session, *, batch: list[dict[str, Any]], sqlite: bool) -> None:
    if sqlite:
        session.execute(text("PRAGMA cache_size=-131072"))  # 128 MiB
    # Core insert on the table: a plain executemany, several times faster than the ORM's bulk
    # path for this many rows (the column types still convert the values).
    session.execute(insert(LEADS), batch)


async def insert_demo_leads(
    *, database: Database, count: int, now: datetime, days: int = 365, seed: int | None = None
) -> int:
    """Insert `count` fake leads spread over the last `days` days; returns how many."""
    rng = random.Random(seed)  # noqa: S311 - fake data, not security
    async with database.session() as session:
        facilitators = list(await session.scalars(select(Facilitator.id).where(Facilitator.active)))
    rows = _leads(count, now=now, days=days, facilitators=facilitators, rng=rng)
    done = 0
    while done < count:
        batch = [row for _, row in zip(range(BATCH), rows, strict=False)]
        await database.write(_insert_batch, batch=batch, sqlite=database.is_sqlite)
        done += len(batch)
    return done
