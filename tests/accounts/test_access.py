"""Signing in and out, sessions, throttling, CSRF, and the guard on every non-public route."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from service.app import create_app
from service.models import Coordinator, DeskAudit, DeskSession
from service.settings import Settings
from tests.conftest import make_settings
from tests.factories import fetch_all, hidden_inputs
from tests.signed_in import PASSWORD, add_coordinator, csrf_token, sign_in


async def test_sign_in_replaces_session_id_and_opens_the_desk(
    client: AsyncTestClient, settings: Settings
) -> None:
    await add_coordinator(settings, "coco@example.org")
    client.cookies.set("quote_desk_session", "planted-by-an-attacker", domain="testserver.local")
    response = await sign_in(client, "Coco@Example.org")
    assert response.status_code == 303 and response.headers["location"] == "/desk/leads"
    new_id = client.cookies["quote_desk_session"]
    assert new_id not in ("planted-by-an-attacker", "null")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = await client.get("/desk/leads")
    assert page.status_code == 200 and "coco@example.org" in page.text
    audit = await fetch_all(settings.database_url, DeskAudit)
    assert [(a.actor, a.action) for a in audit] == [("coco@example.org", "sign_in")]


PUBLIC_ROUTES = {
    ("/", "GET"),
    ("/quote", "POST"),
    ("/quote/thanks/{reference}", "GET"),
    ("/api/v1/quotes", "POST"),
    ("/healthz", "GET"),
    ("/readyz", "GET"),
    ("/favicon.ico", "GET"),
    ("/desk/sign-in", "GET"),
    ("/desk/sign-in", "POST"),
    # The patient's privacy rights: the notice, the fresh-link form, and the personal page
    # and its actions, which the signed link itself opens.
    ("/privacy", "GET"),
    ("/privacy/link", "GET"),
    ("/privacy/link", "POST"),
    ("/privacy/{token}", "GET"),
    ("/privacy/{token}/download", "POST"),
    ("/privacy/{token}/marketing", "POST"),
    ("/privacy/{token}/erase", "POST"),
    # A facilitator's personal link: the signed token in the path is the credential.
    ("/respond/{token}", "GET"),
    ("/respond/{token}", "POST"),
}
PUBLIC_PREFIXES = ("/schema", "/static")
TOKEN_ROUTES = {"/metrics"}
SAMPLE = {uuid.UUID: str(uuid.uuid4()), int: "1"}


def _routes(app: Litestar) -> list[tuple[str, str, str]]:
    """(path template, method, concrete URL) for every HTTP route of the app."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        url = route.path_format
        for param in route.path_parameters.values():
            url = url.replace("{" + param.name + "}", SAMPLE.get(param.type, "x"))
        for method in route.route_handler_map:
            if method not in ("HEAD", "OPTIONS"):
                found.append((route.path_format, method, url))
    return found


async def test_every_non_public_route_refuses_anonymous_clients(client: AsyncTestClient) -> None:
    await client.get("/desk/sign-in")  # a CSRF cookie, so that the guard is what refuses
    token = csrf_token(client)
    checked = []
    for path, method, url in _routes(client.app):
        if (path, method) in PUBLIC_ROUTES or path.startswith(PUBLIC_PREFIXES):
            continue
        response = await client.request(method, url, headers={"x-csrf-token": token})
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path, response.status_code)
        elif path in TOKEN_ROUTES:  # a token or an allowed address (none in these settings)
            assert response.status_code == 403, (method, path, response.status_code)
        else:
            assert path.startswith("/desk"), f"{method} {path} is neither public nor guarded"
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/desk/sign-in"), (method, path)
        checked.append(path)
    assert "/desk/leads" in checked and "/desk/leads/{lead_id}/status" in checked


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: AsyncTestClient, settings: Settings
) -> None:
    await add_coordinator(settings, "coco@example.org")
    wrong = await sign_in(client, "coco@example.org", "not the password")
    unknown = await sign_in(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    assert "That email and password do not match an active account." in wrong.text
    assert _message(wrong.text) == _message(unknown.text)
    assert "quote_desk_session" not in client.cookies


def _message(page: str) -> str:
    found = re.search(r'id="sign-in-error">([^<]*)<', page)
    assert found
    return found.group(1)


async def test_sign_in_is_throttled_per_account_and_address_even_with_the_right_password(
    settings: Settings,
) -> None:
    await add_coordinator(settings, "coco@example.org")
    app = create_app(make_settings(settings.database_url, sign_in_max_failures=3))
    async with AsyncTestClient(app=app) as client:
        client.follow_redirects = False
        for _ in range(3):
            assert (await sign_in(client, "coco@example.org", "guess")).status_code == 400
        blocked = await sign_in(client, "coco@example.org")
        assert blocked.status_code == 429
        assert "Too many failed sign-ins" in blocked.text
        assert "quote_desk_session" not in client.cookies


async def test_sign_in_is_throttled_per_ip_across_accounts(settings: Settings) -> None:
    await add_coordinator(settings, "coco@example.org")
    app = create_app(make_settings(settings.database_url, sign_in_max_failures=3))
    async with AsyncTestClient(app=app) as client:
        client.follow_redirects = False
        for n in range(3):
            await sign_in(client, f"guess{n}@example.org", "guess")
        assert (await sign_in(client, "coco@example.org")).status_code == 429


async def test_sign_out_ends_the_session_for_good(desk: AsyncTestClient) -> None:
    old = desk.cookies["quote_desk_session"]
    response = await desk.post("/desk/sign-out", headers={"x-csrf-token": csrf_token(desk)})
    assert response.status_code == 303 and response.headers["location"].startswith("/desk/sign-in")
    assert (await desk.get("/desk/leads")).status_code == 303
    # The old cookie replayed by someone else is worthless.
    desk.cookies.clear()
    desk.cookies.set("quote_desk_session", old, domain="testserver.local")
    assert (await desk.get("/desk/leads")).headers["location"].startswith("/desk/sign-in")


async def test_every_desk_post_without_csrf_token_is_refused(admin: AsyncTestClient) -> None:
    posts = [
        (path, url)
        for path, method, url in _routes(admin.app)
        if method == "POST" and path.startswith("/desk/")
    ]
    assert len(posts) >= 10
    for path, url in posts:
        response = await admin.post(url, data={"note": "hello", "status": "contacted"})
        assert response.status_code == 403, path


async def test_api_is_documented_with_bearer_auth(client: AsyncTestClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, method in (
        ("/api/v1/leads", "get"),
        ("/api/v1/leads/{lead_id}", "get"),
        ("/api/v1/leads/{lead_id}", "patch"),
    ):
        assert schema["paths"][path][method]["security"] == [{"bearer": []}]
    assert not any(path.startswith("/desk") for path in schema["paths"])


async def test_coordinators_cannot_open_admin_pages(desk: AsyncTestClient) -> None:
    response = await desk.get("/desk/facilitators")
    assert response.status_code == 403
    assert "Only an administrator can do this." in response.text


async def test_idle_session_expires(settings: Settings) -> None:
    await add_coordinator(settings, "coco@example.org")
    app = create_app(make_settings(settings.database_url, desk_idle_minutes=1))
    async with AsyncTestClient(app=app) as client:
        client.follow_redirects = False
        await sign_in(client, "coco@example.org")
        engine = create_async_engine(settings.database_url)
        async with engine.begin() as conn:
            await conn.execute(
                update(DeskSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        await engine.dispose()
        assert (await client.get("/desk/leads")).headers["location"].startswith("/desk/sign-in")


async def test_admin_manages_coordinators_and_a_disabled_account_is_locked_out(
    admin: AsyncTestClient, settings: Settings
) -> None:
    token = {"x-csrf-token": csrf_token(admin)}
    short = await admin.post(
        "/desk/coordinators",
        headers=token,
        data={"email": "new@example.org", "role": "coordinator", "password": "short"},
    )
    assert short.status_code == 400 and "at least 12 characters" in short.text
    added = await admin.post(
        "/desk/coordinators",
        headers=token,
        data={"email": "new@example.org", "role": "coordinator", "password": "a long password!"},
    )
    assert added.status_code == 303
    async with AsyncTestClient(app=create_app(settings)) as other:
        other.follow_redirects = False
        assert (await sign_in(other, "new@example.org", "a long password!")).status_code == 303
        assert (await other.get("/desk/leads")).status_code == 200
        (new,) = [
            c
            for c in await fetch_all(settings.database_url, Coordinator)
            if c.email == "new@example.org"
        ]
        disabled = await admin.post(
            f"/desk/coordinators/{new.id}/active", headers=token, data={"active": "0"}
        )
        assert disabled.status_code == 303
        assert (await other.get("/desk/leads")).headers["location"].startswith("/desk/sign-in")
        assert (await other.get("/desk/sign-in")).status_code == 200  # no redirect loop
    page = await admin.get("/desk/coordinators")
    assert "Account disabled" in page.text


async def test_sign_in_leads_back_to_the_page_asked_for_and_only_to_the_desk(
    client: AsyncTestClient, settings: Settings
) -> None:
    await add_coordinator(settings, "coco@example.org")
    asked = await client.get("/desk/leads?status=won")
    assert asked.headers["location"] == "/desk/sign-in?next=%2Fdesk%2Fleads%3Fstatus%3Dwon"
    page = await client.get(asked.headers["location"])
    form = hidden_inputs(page.text)
    assert form["next"] == "/desk/leads?status=won"
    response = await client.post(
        "/desk/sign-in", data={**form, "email": "coco@example.org", "password": PASSWORD}
    )
    assert response.headers["location"] == "/desk/leads?status=won"
    for evil in ("https://evil.example/", "//evil.example/desk/", "/desk/\\evil.example"):
        page = await client.get("/desk/sign-in", params={"next": evil})
        assert 'name="next"' not in page.text


async def test_session_cookie_is_secure_in_production(settings: Settings) -> None:
    production = make_settings(settings.database_url, env="production", secret_key="s" * 48)
    await add_coordinator(settings, "coco@example.org")
    async with AsyncTestClient(
        app=create_app(production), base_url="https://desk.example"
    ) as client:
        client.follow_redirects = False
        response = await sign_in(client, "coco@example.org")
        cookie = next(
            c
            for c in response.headers.get_list("set-cookie")
            if c.startswith("quote_desk_session=")
        )
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert f"Max-Age={60 * production.desk_idle_minutes}" in cookie
