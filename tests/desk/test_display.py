"""What the desk shows of values a coordinator could be fooled by: an internationalised email
domain is shown with its ASCII (punycode) form beside it, wherever an address is shown."""

from __future__ import annotations

import html

from litestar.testing import AsyncTestClient

from service.settings import Settings
from tests.factories import quote_data, stored_leads
from tests.signed_in import csrf_token

SHOWN = "ana@bücher.example (xn--bcher-kva.example)"


async def test_an_internationalised_domain_is_shown_with_its_punycode(
    client: AsyncTestClient,  # type: ignore[type-arg]
    admin: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    added = await admin.post(
        "/desk/facilitators",
        headers={"x-csrf-token": csrf_token(admin)},
        data={"name": "Bücher Klinik", "email": "care@bücher.example", "weight": "1"},
    )
    assert added.status_code == 303
    created = await client.post("/api/v1/quotes", json=quote_data(email="ana@bücher.example"))
    assert created.status_code == 201
    (lead,) = await stored_leads(settings.database_url)

    listed = html.unescape((await admin.get("/desk/leads")).text)
    assert SHOWN in listed
    page = html.unescape((await admin.get(f"/desk/leads/{lead.id}")).text)
    assert page.count(SHOWN) == 2  # the request's email, and the confirmation's recipient
    assert "care@bücher.example (xn--bcher-kva.example)" in page  # the facilitator
    mail_log = html.unescape((await admin.get("/desk/mail")).text)
    assert SHOWN in mail_log
    facilitators = html.unescape((await admin.get("/desk/facilitators")).text)
    assert "care@bücher.example (xn--bcher-kva.example)" in facilitators


async def test_an_ascii_address_is_shown_as_it_is(
    client: AsyncTestClient,  # type: ignore[type-arg]
    admin: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    assert (await client.post("/api/v1/quotes", json=quote_data())).status_code == 201
    listed = html.unescape((await admin.get("/desk/leads")).text)
    assert "<td>ana.peeters@example.org</td>" in listed
