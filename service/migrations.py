"""Applying alembic migrations from code (the CLI and the tests use the same path)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from service.settings import ROOT

# The PostgreSQL advisory lock that upgrades take (any number that no one else uses).
MIGRATION_LOCK = 7_311_260_001


def in_models(name: str | None, type_: str, parent_names: object) -> bool:
    """What models.py describes, for alembic's comparison: not the search indexes, which only
    the migrations make (SQLite's FTS5 table and its shadow tables, PostgreSQL's trigram
    indexes)."""
    if type_ == "table":
        return not (name or "").startswith("leads_search")
    if type_ == "index":
        return not (name or "").endswith("_trigrams")
    return True


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def ensure_sqlite_directory(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _outside_event_loop(run: Callable[[], None]) -> None:
    """alembic's env.py runs its own event loop, which can't start inside a running one."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        run()
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def upgrade(database_url: str, revision: str = "head") -> None:
    ensure_sqlite_directory(database_url)
    _outside_event_loop(lambda: command.upgrade(alembic_config(database_url), revision))


def downgrade(database_url: str, revision: str = "base") -> None:
    _outside_event_loop(lambda: command.downgrade(alembic_config(database_url), revision))


@contextmanager
def one_at_a_time(connection: Connection) -> Iterator[None]:
    """On PostgreSQL, hold the migration lock while migrating: instances that start together
    and each run `quote-desk db upgrade` wait for one another, and the later ones find the
    schema already at head. (SQLite has one writer: a second upgrade waits on its lock.)"""
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
    connection.commit()  # a session lock: held across the migrations' own transaction
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()
