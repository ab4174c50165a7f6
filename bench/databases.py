"""The benchmarks' own databases: a SQLite file in the run's folder, or a PostgreSQL database
created for the run and dropped after it; plus plain SQL to count what was stored."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@dataclass
class BenchDatabase:
    kind: str  # "sqlite" or "postgresql"
    url: str  # SQLAlchemy URL for the service (and FLOOR_DB for the floor app)
    dsn: str  # plain DSN for the benchmark's own queries (a file path for SQLite)

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self.kind == "sqlite":
            with sqlite3.connect(self.dsn, timeout=60) as conn:
                return [tuple(r) for r in conn.execute(sql, params).fetchall()]
        return asyncio.run(_pg_rows(self.dsn, _numbered(sql), params))

    def scalar(self, sql: str, *params: Any) -> Any:
        found = self.rows(sql, *params)
        return found[0][0] if found else None

    def explain(self, sql: str) -> list[str]:
        """The plan of a query: EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL."""
        if self.kind == "sqlite":
            return [str(r[-1]) for r in self.rows("EXPLAIN QUERY PLAN " + sql)]
        return [str(r[0]) for r in self.rows("EXPLAIN (ANALYZE, BUFFERS) " + sql)]


class Backends:
    """The PostgreSQL server processes serving one database, as one CPU meter: the database's
    share of the work happens there, not in the service's process."""

    def __init__(self, database: BenchDatabase) -> None:
        self.database = database
        self.name = "postgres backends"
        self._seen: dict[int, float] = {}

    def cpu(self) -> float:
        from bench.processes import cpu_seconds

        name = self.database.dsn.rpartition("/")[2]
        pids = self.database.rows(
            "SELECT pid FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()", name
        )
        for (pid,) in pids:
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                self._seen[int(pid)] = cpu_seconds(int(pid))
        # A backend that ended keeps the time it was last seen with.
        return sum(self._seen.values())


def _numbered(sql: str) -> str:
    """`?` placeholders (SQLite's) as `$1, $2...` (asyncpg's)."""
    parts = sql.split("?")
    return "".join(p + (f"${i}" if i < len(parts) else "") for i, p in enumerate(parts, 1))


async def _pg_rows(dsn: str, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(r) for r in await conn.fetch(sql, *params)]
    finally:
        await conn.close()


def sqlite_database(folder: Path, name: str) -> BenchDatabase:
    path = folder / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return BenchDatabase(kind="sqlite", url=f"sqlite+aiosqlite:///{path}", dsn=str(path))


class Postgres:
    """Creates databases named `qd_bench_<pid>_<name>` on a server and drops them all at the end."""

    def __init__(self, url: str) -> None:
        self.url = url  # SQLAlchemy URL of a database to connect to for CREATE/DROP
        self.admin_dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.created: list[str] = []

    def available(self) -> bool:
        try:
            asyncio.run(_pg_rows(self.admin_dsn, "SELECT 1", ()))
        except (OSError, asyncpg.PostgresError):
            return False
        return True

    def create(self, name: str) -> BenchDatabase:
        database = f"qd_bench_{os.getpid()}_{name}"
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{database}"'))
        asyncio.run(self._admin(f'CREATE DATABASE "{database}"'))
        self.created.append(database)
        base, _, _ = self.url.rpartition("/")
        dsn_base, _, _ = self.admin_dsn.rpartition("/")
        return BenchDatabase(
            kind="postgresql", url=f"{base}/{database}", dsn=f"{dsn_base}/{database}"
        )

    def drop_all(self) -> None:
        for database in self.created:
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        self.created.clear()

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
