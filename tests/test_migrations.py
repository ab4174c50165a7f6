"""Migrations go up, down to nothing, and up again, on each database; the result matches models."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from service import migrations
from service.models import Base
from tests.conftest import BACKENDS, POSTGRES_URL, _admin, blocking
from tests.service_processes import service_env


async def _tables_and_diff(url: str) -> tuple[set[str], list[object]]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
        )
    await engine.dispose()
    return tables, diff


# Indexes on an expression, which SQLite cannot reflect (so compare_metadata skips them there).
EXPRESSION_INDEXES = {"ix_leads_email_lower_created_at"}


async def _index_names(url: str) -> set[str]:
    engine = create_async_engine(url)
    query = (
        "SELECT indexname FROM pg_indexes"
        if engine.dialect.name == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'index'"
    )
    async with engine.connect() as conn:
        names = set((await conn.exec_driver_sql(query)).scalars())
    await engine.dispose()
    return names


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path) -> object:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    assert POSTGRES_URL
    name = f"quote_desk_migrate_{uuid.uuid4().hex[:8]}"
    blocking(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        blocking(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning")
@pytest.mark.filterwarnings("ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    migrations.upgrade(empty_database)
    tables, diff = blocking(_tables_and_diff(empty_database))
    assert {"leads", "consents", "legal_texts", "lead_events", "outbox", "facilitators"} <= tables
    assert diff == [], "models and migrations disagree"
    assert blocking(_index_names(empty_database)) >= EXPRESSION_INDEXES

    migrations.downgrade(empty_database)
    tables, _ = blocking(_tables_and_diff(empty_database))
    assert tables <= {"alembic_version"}

    migrations.upgrade(empty_database)
    _, diff = blocking(_tables_and_diff(empty_database))
    assert diff == []
    assert blocking(_index_names(empty_database)) >= EXPRESSION_INDEXES


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL only (QUOTE_TEST_POSTGRES_URL)")
def test_upgrades_started_together_both_succeed(tmp_path: Path) -> None:
    """Instances that start together each run `quote-desk db upgrade`: they take turns."""
    assert POSTGRES_URL
    name = f"quote_desk_together_{uuid.uuid4().hex[:8]}"
    blocking(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        env = service_env(QUOTE_DATABASE_URL=url)
        upgrades = [
            subprocess.Popen(
                [sys.executable, "-m", "service", "db", "upgrade"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(3)
        ]
        outputs = [upgrade.communicate(timeout=120)[0] for upgrade in upgrades]
        assert [u.returncode for u in upgrades] == [0, 0, 0], "\n".join(outputs)
        assert all("Database is up to date." in output for output in outputs)
        tables, diff = blocking(_tables_and_diff(url))
        assert {"leads", "outbox", "worker_heartbeats"} <= tables and diff == []
    finally:
        blocking(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
