"""A coordinator (and an admin) signed in through the real sign-in form (a pytest plugin:
`desk` and `admin` are clients any test can ask for)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
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
