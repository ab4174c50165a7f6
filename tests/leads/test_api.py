"""The JSON API for quote requests: same validation and service as the form."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from tests.conftest import make_settings
from tests.factories import PEOPLE, complete_values, quote_data, stored_leads


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
