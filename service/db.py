"""The database engine, its sessions, and the one way to open a write transaction.

SQLite has a single writer: write transactions start with BEGIN IMMEDIATE (so a transaction
never fails half-way when it upgrades from reading to writing) and are queued on an in-process
lock, so concurrent submits wait their turn instead of failing with "database is locked".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.settings import Settings

_WRITE = "quote_desk_write"


class Database:
    """Owns the engine, the session factory and (on SQLite) the in-process write lock."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.database_url
        # hide_parameters: SQL errors must never carry personal data into the logs.
        self.engine: AsyncEngine = create_async_engine(
            self.url, hide_parameters=True, **settings.engine_options()
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.is_sqlite = settings.is_sqlite
        self.write_lock: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if self.is_sqlite else contextlib.nullcontext()
        )
        if self.is_sqlite:
            _configure_sqlite(self.engine)

    def session(self) -> AsyncSession:
        session = self.sessions()
        session.info["database"] = self
        return session

    async def dispose(self) -> None:
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextlib.asynccontextmanager
async def write_transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Open a write transaction on `session`; commit on success, roll back on any error.

    The session must not be inside a transaction yet: this is where the write begins.
    """
    if session.in_transaction():
        raise RuntimeError("write_transaction() must begin the session's transaction")
    database: Database = session.info["database"]
    async with database.write_lock:
        await session.connection(execution_options={_WRITE: True})
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def provide_session(database: Database) -> AsyncIterator[AsyncSession]:
    """Request-scoped session dependency."""
    session = database.session()
    try:
        yield session
    finally:
        await session.close()


async def ping(database: Database) -> bool:
    try:
        async with database.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready", and /readyz says so
        return False
    return True
