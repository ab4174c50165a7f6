"""Signing in and out, sessions, throttling, CSRF, and the guard on every non-public route."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from service.settings import Settings
from tests.desk.conftest import add_coordinator, sign_in


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
