"""Hostile values in the desk's own query strings and forms: numbers no id can be, dates at
the calendar's end, cursors that do not decode; each answered like any bad filter, never 500."""

from __future__ import annotations

import base64
import uuid

from litestar.testing import AsyncTestClient

from service.models import LeadEvent
from service.settings import Settings
from tests.factories import facilitator_row, fetch_all, insert, lead_row
from tests.signed_in import csrf_token

HTML = {"accept": "text/html"}
HUGE = "99999999999999999999"


async def test_lead_filters_ignore_numbers_and_dates_no_row_can_have(
    admin: AsyncTestClient, settings: Settings
) -> None:
    await insert(settings.database_url, lead_row(reference="Q-KEPT22"))
    for query in (
        f"facilitator={HUGE}",
        "facilitator=2147483648",
        "facilitator=%C2%B2",  # "²": str.isdigit() says yes, int() says no
        "date_to=9999-12-31",
        "date_from=9999-12-31&date_to=9999-12-31",
    ):
        page = await admin.get(f"/desk/leads?{query}", headers=HTML)
        assert page.status_code == 200, query
        export = await admin.get(f"/desk/leads/export.csv?{query}")
        assert export.status_code == 200, query


async def test_a_lead_cursor_at_the_calendars_edge_starts_from_the_top(
    admin: AsyncTestClient, settings: Settings
) -> None:
    await insert(settings.database_url, lead_row(reference="Q-KEPT22"))
    for stamp in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        raw = f"{stamp}|{uuid.uuid4().hex}".encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        page = await admin.get(f"/desk/leads?after={cursor}", headers=HTML)
        assert page.status_code == 200 and "Q-KEPT22" in page.text, stamp


async def test_mail_log_pages_from_numbers_no_id_can_be(admin: AsyncTestClient) -> None:
    for before in (HUGE, "2147483648", "%C2%B2", "-1"):
        page = await admin.get(f"/desk/mail?before={before}", headers=HTML)
        assert page.status_code == 200, before


async def test_reassigning_to_a_number_no_facilitator_has_is_refused_with_the_reason(
    admin: AsyncTestClient, settings: Settings
) -> None:
    lead = lead_row()
    await insert(settings.database_url, lead)
    for chosen in (HUGE, "2147483648", "²"):
        response = await admin.post(
            f"/desk/leads/{lead.id}/reassign",
            data={"facilitator_id": chosen},
            headers={"x-csrf-token": csrf_token(admin)},
        )
        assert response.status_code == 303, chosen
        page = await admin.get(response.headers["location"])
        assert "Choose an active facilitator." in page.text
    assert [e.kind for e in await fetch_all(settings.database_url, LeadEvent)] == []


async def test_enabling_a_facilitator_that_does_not_exist_is_a_404(
    admin: AsyncTestClient, settings: Settings
) -> None:
    clinic = facilitator_row()
    await insert(settings.database_url, clinic)
    token = {"x-csrf-token": csrf_token(admin)}
    missing = await admin.post(
        f"/desk/facilitators/{clinic.id + 1000}/active", data={"active": "1"}, headers=token | HTML
    )
    assert missing.status_code == 404 and "Page not found" in missing.text
    found = await admin.post(
        f"/desk/facilitators/{clinic.id}/active", data={"active": "0"}, headers=token
    )
    assert found.status_code == 303
