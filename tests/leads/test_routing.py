"""Routing each new lead to a facilitator: filters, language first, load relative to weight,
random tie-breaks that share leads fairly, the default facilitator, and unrouted leads."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import count

from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from service.app import create_app
from service.leads import antispam
from service.models import Lead
from service.settings import Settings
from tests.conftest import make_settings
from tests.factories import (
    add_facilitators,
    outbox_rows,
    quote_data,
    quote_form,
    stored_leads,
    submit_form,
)

_patients = count(1)


async def submit(client: AsyncTestClient, **overrides: object) -> None:  # type: ignore[type-arg]
    """A request from a new patient each time: one patient asking again for the same treatment
    is a follow-up, which is not routed (tests/leads/test_submit.py)."""
    overrides.setdefault("email", f"patient{next(_patients)}@example.org")
    response = await client.post("/api/v1/quotes", json=quote_data(**overrides))
    assert response.status_code == 201, response.text


def routed_event(lead: Lead) -> dict[str, object]:
    (event,) = [e for e in lead.events if e.kind in ("routed", "unrouted")]
    return {"kind": event.kind, **event.data}


async def test_the_facilitator_speaking_the_patients_language_is_preferred(
    client: AsyncTestClient, settings: Settings
) -> None:
    french, dutch = await add_facilitators(
        settings.database_url,
        {"name": "Paris Care", "email": "fr@f.example", "languages": ["FR"]},
        {"name": "Gent Care", "email": "nl@f.example", "languages": ["nl", "en"]},
    )
    for _ in range(3):  # Gent gets all of them although Paris has fewer leads
        await submit(client, language="nl")
    await submit(client, language="fr")
    await submit(client, language="de")  # nobody speaks German: the least loaded, Paris

    leads = await stored_leads(settings.database_url)
    assert [lead.facilitator_id for lead in leads] == [dutch.id] * 3 + [french.id] * 2
    first, german = routed_event(leads[0]), routed_event(leads[-1])
    assert first["kind"] == "routed" and first["language_match"] is True
    assert first["facilitator_id"] == dutch.id and "speaks nl" in str(first["reason"])
    assert german["language_match"] is False and "nobody speaks de" in str(german["reason"])


async def test_only_active_facilitators_serving_treatment_and_destination(
    client: AsyncTestClient, settings: Settings
) -> None:
    _, _, belgium = await add_facilitators(
        settings.database_url,
        {"name": "Germany", "email": "de@f.example", "destinations": ["Germany"]},
        {"name": "Knees", "email": "knee@f.example", "treatments": ["Knee replacement"]},
        {
            "name": "Belgium",
            "email": "be@f.example",
            "destinations": ["germany", "BELGIUM"],
            "treatments": ["stem cell therapy for stroke rehabilitation"],
        },
    )
    await submit(client, destination="belgium")
    (lead,) = await stored_leads(settings.database_url)
    assert lead.facilitator_id == belgium.id


async def test_load_is_relative_to_weight_over_the_last_30_days(
    client: AsyncTestClient, settings: Settings
) -> None:
    double, single = await add_facilitators(
        settings.database_url,
        {"name": "Big", "email": "big@f.example", "weight": 2},
        {"name": "Small", "email": "small@f.example", "weight": 1},
    )
    for _ in range(30):
        await submit(client)
    counts = Counter(lead.facilitator_id for lead in await stored_leads(settings.database_url))
    assert counts == {double.id: 20, single.id: 10}

    # Leads older than 30 days no longer count: Small has caught up.
    engine = create_async_engine(settings.database_url)
    async with engine.begin() as conn:
        await conn.execute(
            update(Lead)
            .where(Lead.facilitator_id == double.id)
            .values(created_at=datetime.now(UTC) - timedelta(days=31))
        )
    await engine.dispose()
    await submit(client)
    newest = (await stored_leads(settings.database_url))[-1]
    assert newest.facilitator_id == double.id


async def test_ties_are_broken_at_random_and_leads_are_shared_fairly(
    client: AsyncTestClient, settings: Settings
) -> None:
    facilitators = await add_facilitators(
        settings.database_url,
        *({"name": f"Equal {n}", "email": f"equal{n}@f.example"} for n in range(3)),
    )
    for _ in range(30):
        await submit(client)
    chosen = [lead.facilitator_id for lead in await stored_leads(settings.database_url)]
    assert Counter(chosen) == {f.id: 10 for f in facilitators}
    rounds = {tuple(chosen[i : i + 3]) for i in range(0, 30, 3)}
    assert len(rounds) > 1  # not one fixed order (chance of failing: 6**-9)


async def test_no_match_goes_to_the_default_facilitator(database_url: str) -> None:
    settings = make_settings(database_url, default_facilitator_email="Desk@Fallback.example")
    await add_facilitators(
        database_url, {"name": "Elsewhere", "email": "x@f.example", "destinations": ["Spain"]}
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        await submit(client)
        await submit(client)
    first, second = await stored_leads(database_url)
    assert first.facilitator_id is not None and first.facilitator_id == second.facilitator_id
    event = routed_event(first)
    assert event["kind"] == "routed" and event["default"] is True
    rows = await outbox_rows(database_url)
    assert [r.recipient for r in rows if r.kind == "facilitator_new_lead"] == [
        "desk@fallback.example"
    ] * 2
    (confirmation, _) = [r for r in rows if r.kind == "patient_confirmation"]
    assert "Een bemiddelaar in medisch toerisme bekijkt uw aanvraag" in confirmation.text
    assert "Default facilitator" not in confirmation.text  # a placeholder, not a name


async def test_unrouted_lead_alerts_the_operator_and_still_confirms_the_patient(
    database_url: str,
) -> None:
    settings = make_settings(database_url, alert_email="ops@quote-desk.test")
    async with AsyncTestClient(app=create_app(settings)) as client:
        await submit(client)
    (lead,) = await stored_leads(database_url)
    assert lead.facilitator_id is None and lead.status == "new"
    assert routed_event(lead)["kind"] == "unrouted"
    rows = {row.kind: row for row in await outbox_rows(database_url)}
    assert set(rows) == {"alert_unrouted", "patient_confirmation"}
    assert rows["alert_unrouted"].recipient == "ops@quote-desk.test"
    assert lead.reference in rows["alert_unrouted"].subject
    assert "Ana" not in rows["alert_unrouted"].text  # the alert carries no personal data
    assert rows["patient_confirmation"].recipient == lead.email


async def test_spam_is_neither_routed_nor_mailed(
    client: AsyncTestClient, settings: Settings
) -> None:
    await add_facilitators(settings.database_url, {"name": "Any", "email": "any@f.example"})
    form = quote_form() | {antispam.HONEYPOT_FIELD: "http://spam.example"}
    assert (await submit_form(client, form)).status_code == 303
    (lead,) = await stored_leads(settings.database_url)
    assert lead.status == "spam" and lead.facilitator_id is None
    assert [e.kind for e in lead.events] == ["created"]
    assert await outbox_rows(settings.database_url) == []
