"""The JSON API for quote requests: same validation and service as the form."""

from __future__ import annotations

import json

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from tests.conftest import make_settings
from tests.factories import PEOPLE, complete_values, outbox_rows, quote_data, stored_leads


async def test_create_returns_id_and_reference(client: AsyncTestClient, settings: Settings) -> None:
    sent = complete_values(1, utm_source="partner-site")  # every field, with rich values
    response = await client.post("/api/v1/quotes", json=sent)
    assert response.status_code == 201
    body = response.json()
    (lead,) = await stored_leads(settings.database_url)
    assert body == {"id": str(lead.id), "reference": lead.reference}
    assert lead.source == "api" and lead.utm_source == "partner-site"
    assert {c.kind: c.granted for c in lead.consents} == {
        "disclaimer": True,
        "health_data": True,
        "marketing": False,
    }
    for field, value in sent.items():
        if field == "phone":
            value = PEOPLE[1]["stored_phone"]
        if not field.startswith("consent_"):
            assert getattr(lead, field) == value, field


async def test_invalid_request_lists_field_errors(
    client: AsyncTestClient, settings: Settings
) -> None:
    response = await client.post(
        "/api/v1/quotes",
        json=quote_data(
            email="a@example.org\r\nBcc: b@example.org", country="ZZ", consent_health_data=False
        ),
    )
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(errors) == {"email", "country", "consent_health_data"}
    assert errors["country"] == "Choose a country from the list."
    assert await stored_leads(settings.database_url) == []


async def test_body_that_is_not_an_object_is_a_422(client: AsyncTestClient) -> None:
    response = await client.post("/api/v1/quotes", json=["not", "an", "object"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "Send the quote request as a JSON object."


async def test_malformed_json_is_a_client_error_not_a_500(client: AsyncTestClient) -> None:
    response = await client.post(
        "/api/v1/quotes", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500


async def test_idempotency_key_makes_retries_safe(
    client: AsyncTestClient, settings: Settings
) -> None:
    headers = {"Idempotency-Key": "partner-request-42"}
    first = await client.post("/api/v1/quotes", json=quote_data(), headers=headers)
    again = await client.post("/api/v1/quotes", json=quote_data(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(await stored_leads(settings.database_url)) == 1


async def test_a_key_used_again_for_another_patient_is_refused_not_acknowledged(
    client: AsyncTestClient, settings: Settings
) -> None:
    """A partner whose keys repeat (a counter reset, a constant): a 201 would acknowledge a
    request that is not stored."""
    headers = {"Idempotency-Key": "partner-request-1"}
    first = await client.post("/api/v1/quotes", json=quote_data(), headers=headers)
    other = quote_data(full_name="Zoë Dubois", email="zoe.dubois@example.org")
    refused = await client.post("/api/v1/quotes", json=other, headers=headers)
    assert first.status_code == 201
    assert refused.status_code == 409
    assert "Idempotency-Key" in refused.json()["detail"]
    assert [lead.email for lead in await stored_leads(settings.database_url)] == [
        "ana.peeters@example.org"
    ]
    sent_alone = await client.post("/api/v1/quotes", json=other | {"submission_id": "x1"})
    assert sent_alone.status_code == 201


async def test_api_needs_no_csrf_token(client: AsyncTestClient) -> None:
    client.cookies.clear()
    response = await client.post("/api/v1/quotes", json=quote_data())
    assert response.status_code == 201


async def test_openapi_documents_the_quote_endpoint(client: AsyncTestClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    operation = schema["paths"]["/api/v1/quotes"]["post"]
    assert {"201", "422"} <= set(operation["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    assert "/" not in schema["paths"] and "/quote" not in schema["paths"]


async def test_submissions_are_rate_limited_per_client(database_url: str) -> None:
    app = create_app(make_settings(database_url, rate_limit="2/minute"))
    async with AsyncTestClient(app=app) as client:
        statuses = [
            (await client.post("/api/v1/quotes", json=quote_data())).status_code for _ in range(3)
        ]
        assert (await client.get("/")).status_code == 200  # reading is never limited
    assert statuses == [201, 201, 429]


async def test_a_name_that_reads_backwards_is_refused_beside_its_field(
    client: AsyncTestClient, settings: Settings
) -> None:
    response = await client.post(
        "/api/v1/quotes", json=quote_data(full_name="Ana \u202egro.elpmaxe@srettep")
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "full_name" and "direction" in error["message"]
    assert await stored_leads(settings.database_url) == []


JSON_ONLY = "Send the quote request as JSON, with the header Content-Type: application/json."
OTHER_SITE = (
    "This API does not take requests from pages on other web sites; a partner site's origin "
    "must be allowed by the operator first."
)


async def test_only_json_is_accepted(client: AsyncTestClient, settings: Settings) -> None:
    body = json.dumps(quote_data())
    for content_type in (
        "text/plain",  # what a page on another site can send without asking first
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "application/jsonx",
        None,
    ):
        headers = {"content-type": content_type} if content_type else {}
        response = await client.post("/api/v1/quotes", content=body, headers=headers)
        assert response.status_code == 415, content_type
        assert response.json()["detail"] == JSON_ONLY
    assert await stored_leads(settings.database_url) == []
    response = await client.post(
        "/api/v1/quotes", content=body, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 201


async def test_a_page_on_another_site_cannot_submit(
    client: AsyncTestClient, settings: Settings
) -> None:
    for headers in (
        {"origin": "https://evil.example"},
        {"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
        {"origin": "null"},  # a sandboxed frame or a file
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": "https://shop.testserver.local"},
    ):
        response = await client.post("/api/v1/quotes", json=quote_data(), headers=headers)
        assert response.status_code == 403, headers
        assert response.json()["detail"] == OTHER_SITE
        assert "access-control-allow-origin" not in response.headers
    assert await stored_leads(settings.database_url) == []
    assert await outbox_rows(settings.database_url) == []


async def test_servers_and_this_site_itself_may_submit(client: AsyncTestClient) -> None:
    for headers in (
        {},  # a partner's server: no browser, no Origin
        {"origin": "http://testserver.local", "sec-fetch-site": "same-origin"},
    ):
        response = await client.post("/api/v1/quotes", json=quote_data(), headers=headers)
        assert response.status_code == 201, headers


PARTNER = "https://partner.example"


async def test_a_listed_origin_is_answered_with_cors(
    database_url: str,
) -> None:
    app = create_app(
        make_settings(database_url, api_allowed_origins=f"{PARTNER}/, https://other.example")
    )
    async with AsyncTestClient(app=app) as client:
        preflight = await client.options(
            "/api/v1/quotes",
            headers={
                "origin": PARTNER,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type,idempotency-key",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == PARTNER
        assert preflight.headers["access-control-allow-methods"] == "POST"
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert "content-type" in allowed and "idempotency-key" in allowed
        assert "origin" in preflight.headers["vary"].lower()
        assert "access-control-allow-credentials" not in preflight.headers

        created = await client.post(
            "/api/v1/quotes",
            json=quote_data(),
            headers={"origin": PARTNER, "sec-fetch-site": "cross-site"},
        )
        assert created.status_code == 201
        assert created.headers["access-control-allow-origin"] == PARTNER
        assert "idempotent-replayed" in created.headers["access-control-expose-headers"].lower()
        # The partner's page can read the field errors too.
        invalid = await client.post(
            "/api/v1/quotes", json=quote_data(country="ZZ"), headers={"origin": PARTNER}
        )
        assert invalid.status_code == 422
        assert invalid.headers["access-control-allow-origin"] == PARTNER

        unlisted = await client.options(
            "/api/v1/quotes",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
        assert unlisted.status_code == 403
        assert "access-control-allow-origin" not in unlisted.headers
        # Only the quotes API is shared with the partner, not the rest of the site.
        desk = await client.get("/desk/sign-in", headers={"origin": PARTNER})
        assert "access-control-allow-origin" not in desk.headers


def test_every_origin_at_once_is_refused_at_start_up(database_url: str) -> None:
    with pytest.raises(ValueError, match="QUOTE_API_ALLOWED_ORIGINS"):
        make_settings(database_url, api_allowed_origins="*")
    with pytest.raises(ValueError, match="QUOTE_API_ALLOWED_ORIGINS"):
        make_settings(database_url, api_allowed_origins="partner.example")


async def test_the_form_honeypot_sent_to_the_api_marks_spam(
    client: AsyncTestClient, settings: Settings
) -> None:
    """A bot that copies the page's form fields into JSON fills the honeypot too."""
    response = await client.post("/api/v1/quotes", json=quote_data(website="http://spam.example"))
    assert response.status_code == 201  # stored, never refused: the desk can still see it
    (lead,) = await stored_leads(settings.database_url)
    assert lead.status == "spam" and lead.events[0].data["spam"] == "honeypot"
    assert await outbox_rows(settings.database_url) == []


async def test_the_api_documentation_needs_nothing_from_another_site(
    client: AsyncTestClient,
) -> None:
    """Every page under /schema works under the CSP: no script, style or font from elsewhere."""
    paths = [
        r.path for r in client.app.routes if r.path.startswith("/schema") and "{" not in r.path
    ]
    assert "/schema" in paths
    for path in paths:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "<script" not in response.text and "https://cdn" not in response.text, path
    document = (await client.get("/schema")).json()
    assert "/api/v1/quotes" in document["paths"]
