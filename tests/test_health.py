"""Liveness and readiness probes."""

from litestar.testing import AsyncTestClient

from service.app import create_app
from tests.conftest import make_settings


async def test_healthz(client: AsyncTestClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_when_database_answers(client: AsyncTestClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200


async def test_readyz_is_503_when_database_is_unreachable(sqlite_url: str) -> None:
    # Nothing listens on port 9 (discard): the database cannot be reached.
    settings = make_settings("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    app = create_app(settings)
    app.on_startup.clear()  # startup would try the database too; readiness is what we test
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "database unavailable"}
