"""What every benchmark section shares: the options, the run's folder, PostgreSQL (when it is
there), the report, and ids that keep every request of the whole run unique."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

from bench.databases import BenchDatabase, Postgres, sqlite_database
from bench.report import Report


@dataclass
class Context:
    quick: bool
    seconds: float
    rounds: int
    leads: int
    workdir: Path
    postgres: Postgres | None
    report: Report = field(default_factory=Report)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def run_id(self, tag: str) -> str:
        """A prefix for the submission ids of one wrk run: unique in this run and across runs."""
        return f"bench{os.getpid()}{tag}{next(self._ids)}"

    def database(self, engine: str, name: str) -> BenchDatabase:
        if engine == "postgresql":
            if self.postgres is None:
                raise RuntimeError("PostgreSQL is not available")
            return self.postgres.create(name)
        return sqlite_database(self.workdir, name)
