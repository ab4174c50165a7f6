"""The database engine, its sessions, and how writes are run.

Reads use async sessions. A write is a plain function of a `Session` given to
`Database.write(fn, **kwargs)`, which runs it in one transaction and commits. On SQLite, which
has one writer, that function runs on a single writer thread with its own connection: the whole
transaction is one hop from the event loop (no lock held across awaits), writes queue in
order instead of failing with "database is locked", and BEGIN IMMEDIATE means a transaction
never fails half-way when it upgrades from reading to writing. On PostgreSQL it runs on an
async session. Every write in the service goes this way; `Database.write_first` goes ahead of
SQLite's queue, for a write that must not wait (an email the mail server just accepted).

A write can `announce(session, name)` what it did (the outbox announces queued mail); once the
transaction has committed, `Database.write` calls whoever listens for that name (the mail
worker wakes). Nobody hears of a write that rolled back.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from functools import cache
from typing import Any, Concatenate, ParamSpec, TypeVar

from litestar.di import NamedDependency
from sqlalchemy import Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from service.settings import Settings

T = TypeVar("T")
P = ParamSpec("P")
_ANNOUNCED = "announced"


def announce(session: Session, name: str) -> None:
    """Have `name` announced to its listeners once this write commits."""
    session.info.setdefault(_ANNOUNCED, set()).add(name)


def _announced(session: Session) -> set[str]:
    names: set[str] = session.info.pop(_ANNOUNCED, set())
    return names


# SQLSTATE classes of a PostgreSQL that cannot serve now but may in a minute: connection
# exceptions, insufficient resources (too many connections), operator intervention (shutting
# down, starting up), transaction rollback (serialization failure, deadlock).
_PASSING_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "40"})


class DatabaseUnavailable(Exception):
    """The database cannot take this write now (refused or lost connection, a lock held past
    the busy timeout, a server restarting); the same request may succeed in a minute."""


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database (or the network to it) is away, not that the request or
    the code is wrong."""
    if isinstance(exc, DatabaseUnavailable | OSError | PoolTimeout):
        return True  # OSError: a refused or reset connection, before SQLAlchemy wraps anything
    if isinstance(exc, OperationalError | InterfaceError):
        return True  # SQLite: locked, busy, I/O error; PostgreSQL: a connection gone
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None)
        return exc.connection_invalidated or (
            isinstance(sqlstate, str) and sqlstate[:2] in _PASSING_SQLSTATE_CLASSES
        )
    return False


class _Writer:
    """SQLite's writer thread: one write transaction at a time, in the order asked, except that
    one asked `first` goes before those still waiting."""

    def __init__(self) -> None:
        # (0 first | 1 in turn | 2 stop, order asked, work, its future)
        self._queue: queue.PriorityQueue[
            tuple[int, int, Callable[[], Any] | None, Future[Any] | None]
        ] = queue.PriorityQueue()
        self._order = itertools.count()
        # A daemon, so a process that never disposed its database can still exit; a write
        # cut short that way is rolled back by SQLite, never half-applied.
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[], T], *, first: bool) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((0 if first else 1, next(self._order), work, future))
        return future

    def shutdown(self) -> None:
        """Finish every write asked for, then stop."""
        self._queue.put((2, next(self._order), None, None))
        self._thread.join()

    def _run(self) -> None:
        while True:
            _, _, work, future = self._queue.get()
            if work is None or future is None:
                return
            if not future.set_running_or_notify_cancel():
                continue  # its caller gave up waiting before it started
            try:
                result = work()
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)


class Database:
    """Owns the engine, the session factory and (on SQLite) the writer thread."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.database_url
        # hide_parameters: SQL errors must never carry personal data into the logs.
        self.engine: AsyncEngine = create_async_engine(
            self.url, hide_parameters=True, **_engine_options(self.url)
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
        self._listeners: defaultdict[str, list[Callable[[], None]]] = defaultdict(list)
        self._writer: _Writer | None = None
        self._writer_engine: Engine | None = None
        if self.is_sqlite:
            _configure_sqlite(self.engine.sync_engine, begin="BEGIN")
            self._writer = _Writer()
            self._writer_engine = create_engine(
                make_url(self.url).set(drivername="sqlite"), hide_parameters=True
            )
            _configure_sqlite(self._writer_engine, begin="BEGIN IMMEDIATE")

    def session(self) -> AsyncSession:
        return self.sessions()

    def on_commit(self, name: str, listener: Callable[[], None]) -> None:
        """Call `listener` after each committed write that announced `name`."""
        self._listeners[name].append(listener)

    async def write(
        self, work: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `work(session, ...)` in one write transaction; commit when it returns, else roll
        back. Objects it returns keep their loaded attributes (nothing expires on commit). When
        the database cannot be reached or locked in time, DatabaseUnavailable (cause attached)."""

        def bound(session: Session) -> T:
            return work(session, *args, **kwargs)

        return await self._write(bound, first=False)

    async def write_first(
        self, work: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`write`, ahead of the writes already waiting for SQLite's single writer (each
        PostgreSQL write has its own connection and waits for none): for what must not wait."""

        def bound(session: Session) -> T:
            return work(session, *args, **kwargs)

        return await self._write(bound, first=True)

    async def _write(self, bound: Callable[[Session], T], *, first: bool) -> T:
        try:
            if self._writer is not None:
                job = self._writer.submit(lambda: self._write_on_writer(bound), first=first)
                result, announced = await asyncio.wrap_future(job)
            else:
                async with self.session() as session:
                    async with session.begin():
                        result = await session.run_sync(bound)
                    announced = _announced(session.sync_session)
        except Exception as exc:
            if is_unavailable(exc):
                raise DatabaseUnavailable(type(exc).__name__) from exc
            raise
        for name in announced:
            for listener in self._listeners[name]:
                listener()
        return result

    def _write_on_writer(self, work: Callable[[Session], T]) -> tuple[T, set[str]]:
        with Session(self._writer_engine, expire_on_commit=False) as session:
            with session.begin():
                result = work(session)
            return result, _announced(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._writer is not None and self._writer_engine is not None:
            self._writer.shutdown()
            self._writer_engine.dispose()


def _engine_options(url: str) -> dict[str, Any]:
    if make_url(url).get_backend_name() == "sqlite":
        return {}
    # Dates are UTC days on both engines (the stats group leads by day).
    return {
        "pool_size": 10,
        "max_overflow": 10,
        "pool_pre_ping": True,
        "connect_args": {"server_settings": {"timezone": "UTC"}},
    }


def is_postgresql(where: Session | Connection) -> bool:
    """Whether a write runs on PostgreSQL (else SQLite): the one way to ask, inside a write."""
    bind = where.get_bind() if isinstance(where, Session) else where
    return bind.dialect.name == "postgresql"


def dialect_insert(session: Session, table: Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that knows ON CONFLICT, for the engine `session` writes to."""
    if is_postgresql(session):
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_new(session: Session, table: Table, *, key: str) -> sqlite.Insert | postgresql.Insert:
    """`INSERT ... ON CONFLICT (key) DO NOTHING` for the engine `session` writes to, its values
    given to `execute`: built once, since building a statement costs more than running it."""
    return _insert_new(session.get_bind().dialect.name, table, key)


@cache
def _insert_new(dialect: str, table: Table, key: str) -> sqlite.Insert | postgresql.Insert:
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_nothing(index_elements=[key])


def _configure_sqlite(engine: Engine, *, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)


async def provide_session(database: NamedDependency[Database]) -> AsyncIterator[AsyncSession]:
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
