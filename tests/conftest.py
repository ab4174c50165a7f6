"""Test databases (a real SQLite file, and PostgreSQL when QUOTE_TEST_POSTGRES_URL is set),
a fresh app per test built from its own Settings, and a client for it."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from service import migrations
from service.app import create_app
from service.models import Base
from service.settings import Settings

pytest_plugins = ["tests.smtp", "tests.signed_in", "tests.answering", "tests.service_processes"]
POSTGRES_URL = os.environ.get("QUOTE_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("QUOTE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]
KEPT_TABLES = {"legal_texts", "alembic_version"}
T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not POSTGRES_URL:
        raise pytest.UsageError("CI=true requires QUOTE_TEST_POSTGRES_URL: PostgreSQL must run")


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_URL:
        return f"databases: SQLite and PostgreSQL ({make_url(POSTGRES_URL).host})"
    return (
        "databases: SQLite only -- PostgreSQL tests SKIPPED "
        "(set QUOTE_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres)"
    )


def blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even where a loop already runs."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _admin(sql: str) -> None:
    assert POSTGRES_URL
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(sql)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A dedicated, migrated PostgreSQL database for this test run, dropped at the end."""
    assert POSTGRES_URL, "QUOTE_TEST_POSTGRES_URL is not set"
    name = f"quote_desk_test_{uuid.uuid4().hex[:8]}"
    blocking(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrations.upgrade(url)
        yield url
    finally:
        blocking(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'quote-desk.db'}"
    migrations.upgrade(url)
    return url


async def _empty_tables(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in KEPT_TABLES:
                await conn.execute(delete(table))
    await engine.dispose()


async def _redis_answers() -> bool:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except OSError:
        return False
    finally:
        await client.aclose()


async def _forget_namespace(namespace: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{namespace}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    """A Redis key namespace of this test's own (QUOTE_TEST_REDIS_URL, default the local
    server), emptied afterwards; skipped without Redis, except under CI=true."""
    if not blocking(_redis_answers()):
        if IN_CI:
            pytest.fail(f"CI=true requires Redis at {REDIS_URL}")
        pytest.skip(f"Redis tests need a Redis server at {REDIS_URL} (QUOTE_TEST_REDIS_URL)")
    namespace = f"quote-desk-test-{uuid.uuid4().hex[:10]}"
    yield namespace
    blocking(_forget_namespace(namespace))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each database test runs once per backend; rows are removed after each test."""
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need QUOTE_TEST_POSTGRES_URL")
    url: str = request.getfixturevalue(f"{request.param}_url")
    yield url
    blocking(_empty_tables(url))


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "secret_key": "test-secret-" + "x" * 40,
        "mailer_enabled": False,
        "rate_limit": "0",
        "min_fill_seconds": 0,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=create_app(settings)) as client:
        client.follow_redirects = False  # a test sees the 303 a browser gets
        yield client
