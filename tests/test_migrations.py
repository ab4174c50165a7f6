"""Migrations go up, down to nothing, and up again, on each database; the result matches models."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import insert, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from service import migrations
from service.cli import main
from service.content.documents import legal_texts
from service.models import Base
from tests.conftest import BACKENDS, POSTGRES_URL, _admin, blocking
from tests.service_processes import service_env


async def _tables_and_diff(url: str) -> tuple[set[str], list[object]]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"include_name": migrations.in_models}),
                Base.metadata,
            )
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


def test_upgrade_chains_the_consent_records_already_stored(empty_database: str) -> None:
    """A database from before the consent chain: its records are chained by the upgrade, in
    the order they were stored, and `quote-desk consent verify` accepts them."""
    migrations.upgrade(empty_database, "904c71d18b07")
    blocking(_store_before_the_chain(empty_database))
    migrations.upgrade(empty_database)

    result = CliRunner().invoke(
        main, ["consent", "verify"], env={"QUOTE_DATABASE_URL": empty_database}
    )
    assert result.exit_code == 0, result.output
    assert "Consent chain intact: 6 record(s)" in result.output


async def _store_before_the_chain(url: str) -> None:
    tables = Base.metadata.tables
    text = next(iter(legal_texts().values()))
    now = datetime(2026, 11, 1, 9, 30, 15, 123456, tzinfo=UTC)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            insert(tables["legal_texts"]).values(
                sha256=text.sha256,
                kind=text.kind,
                version=text.version,
                label=text.label,
                body=text.body,
                created_at=now,
            )
        )
        for n in range(2):
            lead_id = uuid.uuid4()
            await conn.execute(
                insert(tables["leads"]).values(
                    id=lead_id,
                    reference=f"Q-MIGR0{n}",
                    submission_id=uuid.uuid4().hex,
                    status="new",
                    source="form",
                    full_name="Ana Peeters",
                    email="ana@example.org",
                    country="BE",
                    language="nl",
                    treatment="Stem cells",
                    destination="Belgium",
                    contact_method="email",
                    created_at=now,
                    updated_at=now,
                )
            )
            for kind in ("disclaimer", "health_data", "marketing"):
                await conn.execute(
                    insert(tables["consents"]).values(
                        lead_id=lead_id,
                        kind=kind,
                        granted=kind != "marketing",
                        legal_text_sha256=text.sha256,
                        ip="192.0.2.1" if n else None,
                        user_agent="Mozilla/5.0",
                        created_at=now,
                    )
                )
    await engine.dispose()


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
