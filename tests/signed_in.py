"""A coordinator (and an admin) signed in through the real sign-in form (a pytest plugin:
`desk` and `admin` are clients any test can ask for); an administrator on an app of a test's
own, and a personal API token made through the desk's tokens screen."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.accounts.coordinators import create_coordinator
from service.app import create_app
from service.db import Database
from service.settings import Settings
from tests.factories import hidden_inputs

PASSWORD = "correct horse battery staple"


async def add_coordinator(settings: Settings, email: str, role: str = "coordinator") -> None:
    database = Database(settings)
    try:
        await create_coordinator(
            database=database, email=email, password=PASSWORD, role=role, now=datetime.now(UTC)
        )
    finally:
        await database.dispose()


async def sign_in(client: AsyncTestClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def,type-arg]
    page = await client.get("/desk/sign-in")
    assert page.status_code == 200
    token = hidden_inputs(page.text)["_csrf_token"]
    return await client.post(
        "/desk/sign-in", data={"_csrf_token": token, "email": email, "password": password}
    )


def csrf_token(client: AsyncTestClient) -> str:  # type: ignore[type-arg]
    """The token a desk form carries (the CSRF cookie's value, as litestar renders it)."""
    return str(client.cookies["quote_csrf"])


@pytest.fixture
async def desk(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """A client signed in as a coordinator."""
    await add_coordinator(settings, "coco@example.org")
    async with AsyncTestClient(app=create_app(settings)) as client:
        client.follow_redirects = False
        response = await sign_in(client, "coco@example.org")
        assert response.status_code == 303
        yield client


@pytest.fixture
async def admin(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """A client signed in as an administrator."""
    await add_coordinator(settings, "ada@example.org", role="admin")
    async with AsyncTestClient(app=create_app(settings)) as client:
        client.follow_redirects = False
        response = await sign_in(client, "ada@example.org")
        assert response.status_code == 303
        yield client


@asynccontextmanager
async def admin_client(
    settings: Settings, app: Litestar | None = None
) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """An administrator of their own (a fresh address each time), on `app` if given."""
    email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    await add_coordinator(settings, email, role="admin")
    async with AsyncTestClient(app=app or create_app(settings)) as client:
        client.follow_redirects = False
        response = await sign_in(client, email)
        assert response.status_code == 303, response.text
        yield client


async def api_token(client: AsyncTestClient) -> str:  # type: ignore[type-arg]
    """A Bearer token for the signed-in coordinator, created in the desk as a person would."""
    created = await client.post(
        "/desk/tokens", data={"name": "fuzz"}, headers={"x-csrf-token": csrf_token(client)}
    )
    assert created.status_code == 200
    found = re.search(r'<code class="desk-token">([^<]+)</code>', created.text)
    assert found
    return found.group(1)
