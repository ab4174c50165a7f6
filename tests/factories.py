"""Small builders for test data: a valid quote, and a form submission as a browser makes it."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from httpx import Response
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import selectinload

from service.db import Database
from service.facilitators import FacilitatorInput, save_facilitator
from service.models import Base, Consent, Facilitator, Lead, OutboxMessage
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
    """The hidden fields of the page's form (CSRF token, submission id, render time, UTM)."""
    fields = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
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
