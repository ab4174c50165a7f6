"""The complete-lead factory: a lead made of direct rows has the same shape as one that went
through the real submit, and that shape has everything the desk can show."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from service.settings import Settings
from tests.factories import (
    COORDINATOR,
    PEOPLE,
    STATES,
    complete_cast,
    insert_complete_leads,
    lead_shape,
    stored_leads,
    submit_complete_lead,
)


async def test_direct_and_submitted_complete_leads_have_the_same_shape(
    client: AsyncTestClient, settings: Settings
) -> None:
    cast = await complete_cast(settings.database_url)
    submitted = await submit_complete_lead(client, settings.database_url, cast=cast, patient=1)
    (direct,) = await insert_complete_leads(settings.database_url, cast=cast, patient=1)

    shape = await lead_shape(settings.database_url, submitted.id)
    assert shape == await lead_shape(settings.database_url, direct.id)

    # Every field filled; routed to an active facilitator; the three consents against the
    # texts the page shows; the whole timeline; an email in every outbox state.
    assert shape["empty_fields"] == []
    assert shape["facilitator"] is True
    assert [(kind, stored) for kind, _, stored, _ in shape["consents"]] == [
        ("disclaimer", True),
        ("health_data", True),
        ("marketing", True),
    ]
    assert [kind for kind, _, _ in shape["events"]] == [
        "created",
        "routed",
        "email_sent",
        "email_failed",
        "email_retry",
        "email_failed",
        "status_changed",
        "note",
        "reassigned",
        "email_failed",
        "reassigned",
    ]
    assert sorted(status for _, status, *_ in shape["emails"]) == sorted(STATES)
    assert set(submitted.emails) == set(direct.emails) == set(STATES)

    leads = {lead.id: lead for lead in await stored_leads(settings.database_url)}
    for made in (submitted, direct):
        lead = leads[made.id]
        assert lead.facilitator_id == cast.third.id and lead.status == "contacted"
        assert [e.actor for e in lead.events if e.kind == "note"] == [COORDINATOR]
    # The same patient either way: the direct rows hold what the submit's validation stores.
    kept = ("id", "reference", "submission_id", "created_at", "updated_at")
    assert {
        column: value
        for column, value in vars(leads[submitted.id]).items()
        if not column.startswith("_") and column not in (*kept, "consents", "events")
    } == {
        column: value
        for column, value in vars(leads[direct.id]).items()
        if not column.startswith("_") and column not in (*kept, "consents", "events")
    }


async def test_every_patient_of_the_rotation_passes_the_submit(
    client: AsyncTestClient, settings: Settings
) -> None:
    """The values are rich, not invalid: each patient's form is accepted as it is."""
    cast = await complete_cast(settings.database_url)
    for patient in range(len(PEOPLE)):
        made = await submit_complete_lead(client, settings.database_url, cast=cast, patient=patient)
        assert made.full_name == PEOPLE[patient]["full_name"]
