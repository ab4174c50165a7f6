"""Every kind of response carries the security headers: pages, redirects, every 4xx, a 5xx,
static files, the CSV export and the OpenAPI schema; HSTS in production only."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from httpx import Response
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from tests.conftest import make_settings
from tests.factories import insert, outbox_row, quote_form, submit_form
from tests.signed_in import admin_client, csrf_token

HTML = {"accept": "text/html"}
EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def assert_secured(response: Response, what: str) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (what, name, response.status_code)
    policy = response.headers.get_list("content-security-policy")
    assert len(policy) == 1, (what, policy)
    assert "default-src 'self'" in policy[0] and "frame-ancestors 'none'" in policy[0], what
    assert "strict-transport-security" not in response.headers, what


@get("/test/boom", include_in_schema=False, opt={"public": True})
async def boom() -> None:
    """Registered only in these tests' app: a handler that fails."""
    raise RuntimeError("a bug, for the test")


def app_with_a_failing_route(settings: Settings) -> Litestar:
    app = create_app(settings)
    app.register(boom)
    return app


@pytest.fixture
async def admin(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with admin_client(settings, app_with_a_failing_route(settings)) as client:
        yield client


async def test_public_responses_of_every_kind(client: AsyncTestClient) -> None:
    answers = {
        "page": await client.get("/", headers=HTML),
        "redirect after a submit": await submit_form(client),
        "thanks page 404": await client.get("/quote/thanks/Q-NONE22", headers=HTML),
        "404 JSON": await client.get("/no/such/page"),
        "405": await client.get("/quote", headers=HTML),
        "403 (CSRF)": await client.post("/quote", data=quote_form(), headers=HTML),
        "401": await client.get("/api/v1/leads"),
        "400 (the edge)": await client.post("/api/v1/quotes", content=b'{"a": "\\u0000"}'),
        "413": await client.post("/api/v1/quotes", content=b"x" * 70_000),
        "415": await client.post("/quote", files={"f": b"x"}, headers=HTML),
        "422": await client.post("/api/v1/quotes", json={}),
        "static": await client.get("/static/app.css"),
        "static 404": await client.get("/static/nothing.css"),
        "OpenAPI": await client.get("/schema/openapi.json"),
        "health": await client.get("/healthz"),
        "readiness": await client.get("/readyz"),
        "sign-in page": await client.get("/desk/sign-in"),
        "desk redirect to sign-in": await client.get("/desk/leads"),
    }
    assert answers["redirect after a submit"].status_code == 303
    assert answers["403 (CSRF)"].status_code == 403
    assert answers["static"].status_code == 200
    for what, response in answers.items():
        assert_secured(response, what)


async def test_desk_responses_and_a_5xx(admin: AsyncTestClient, settings: Settings) -> None:
    message = outbox_row(None)
    await insert(settings.database_url, message)
    token = {"x-csrf-token": csrf_token(admin)}
    answers = {
        "desk page": await admin.get("/desk/leads"),
        "CSV export": await admin.get("/desk/leads/export.csv"),
        "desk 404": await admin.get("/desk/mail/2147483647", headers=HTML),
        "desk action redirect": await admin.post(f"/desk/emails/{message.id}/retry", headers=token),
        "500 page": await admin.get("/test/boom", headers=HTML),
        "500 JSON": await admin.get("/test/boom"),
    }
    assert answers["CSV export"].status_code == 200
    assert answers["500 page"].status_code == 500 and "Traceback" not in answers["500 page"].text
    for what, response in answers.items():
        assert_secured(response, what)

    # The email as queued is shown in a sandboxed frame: its own policy, framed by the desk.
    email = await admin.get(f"/desk/mail/{message.id}/html")
    assert email.status_code == 200
    (policy,) = email.headers.get_list("content-security-policy")
    assert policy.startswith("sandbox;") and "frame-ancestors 'self'" in policy
    assert email.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert email.headers["x-content-type-options"] == "nosniff"


async def test_429_carries_the_headers(database_url: str) -> None:
    settings = make_settings(database_url, rate_limit="1/minute")
    async with AsyncTestClient(app=create_app(settings)) as client:
        client.follow_redirects = False
        assert (await submit_form(client)).status_code == 303
        limited = await submit_form(client, headers=HTML)
    assert limited.status_code == 429
    assert_secured(limited, "429")


async def test_production_adds_hsts_to_every_response(database_url: str) -> None:
    settings = make_settings(database_url, env="production")
    async with AsyncTestClient(app=create_app(settings)) as client:
        for path in ("/", "/static/app.css", "/no/such/page", "/api/v1/leads", "/desk/leads"):
            response = await client.get(path, follow_redirects=False)
            hsts = response.headers.get("strict-transport-security")
            assert hsts == "max-age=31536000", (path, response.status_code)
            assert response.headers["x-frame-options"] == "DENY"
