"""Hostile values in the desk's own query strings and forms: numbers no id can be, dates at
the calendar's end, cursors that do not decode; each answered like any bad filter, never 500."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from service.settings import Settings
from tests.signed_in import csrf_token
from tests.factories import facilitator_row, insert

HTML = {"accept": "text/html"}
HUGE = "99999999999999999999"


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
