"""Submit throughput and latency: the service's form and JSON submit against the floor app,
same load, same run, alternating; and whether every acknowledged submit was stored."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.context import Context
from bench.databases import Backends, BenchDatabase
from bench.forms import (
    floor_form_variants,
    floor_json_variants,
    form_variants,
    json_variants,
    prepare_database,
)
from bench.load import LoadResult, Meter, Variant, run_wrk
from bench.processes import Process, sink_env, start_floor, start_service, start_sink
from bench.report import Row

KINDS = {
    # kind: (service path, expected status, floor path, floor status, label)
    "form": ("/quote", 303, "/quote", 303, "form submit (POST /quote)"),
    "json": ("/api/v1/quotes", 201, "/api/quote", 201, "JSON submit (POST /api/v1/quotes)"),
}


@dataclass
class Outcome:
    """The best run of each side, and every service run's acknowledgements vs stored leads."""

    service: LoadResult
    floor: LoadResult
    acknowledged: int
    stored: int
    errors: int
    spam: int
    emails: int

    @property
    def lost(self) -> int:
        return max(0, self.acknowledged - self.stored)


def stored_by_prefix(database: BenchDatabase, run_ids: list[str]) -> tuple[int, int, int]:
    """Leads stored for these runs, how many were taken for spam, and their queued emails."""
    leads = spam = emails = 0
    for run_id in run_ids:
        pattern = f"{run_id}-%"
        leads += database.scalar("SELECT count(*) FROM leads WHERE submission_id LIKE ?", pattern)
        spam += database.scalar(
            "SELECT count(*) FROM leads WHERE submission_id LIKE ? AND status = 'spam'", pattern
        )
        emails += database.scalar(
            "SELECT count(*) FROM outbox o JOIN leads l ON l.id = o.lead_id "
            "WHERE l.submission_id LIKE ?",
            pattern,
        )
    return leads, spam, emails


def compare(
    ctx: Context,
    *,
    kind: str,
    service: Process,
    floor: Process,
    service_db: BenchDatabase,
    browsers: list[Variant],
    connections: int,
    rounds: int,
    label: str,
    watch: list[Meter],
    floor_watch: list[Meter],
) -> Outcome:
    path, status, floor_path, floor_status, _ = KINDS[kind]
    variants = browsers if kind == "form" else json_variants()
    floor_variants = floor_form_variants() if kind == "form" else floor_json_variants()
    service_runs: list[LoadResult] = []
    floor_runs: list[LoadResult] = []
    run_ids: list[str] = []

    def run_service() -> None:
        run_id = ctx.run_id(kind)
        run_ids.append(run_id)
        result = run_wrk(
            name=f"service {kind} {label}",
            target=service,
            path=path,
            variants=variants,
            expect=(status,),
            connections=connections,
            seconds=ctx.seconds,
            run_id=run_id,
            workdir=ctx.workdir,
            watch=watch,
        )
        service_runs.append(ctx.report.load(result))

    def run_floor() -> None:
        result = run_wrk(
            name=f"floor {kind} {label}",
            target=floor,
            path=floor_path,
            variants=floor_variants,
            expect=(floor_status,),
            connections=connections,
            seconds=ctx.seconds,
            run_id=ctx.run_id("floor"),
            workdir=ctx.workdir,
            watch=floor_watch,
        )
        floor_runs.append(ctx.report.load(result))

    # Alternate which goes first, so that a noisy neighbour hurts both alike.
    for n in range(rounds):
        for run in (run_floor, run_service) if n % 2 == 0 else (run_service, run_floor):
            run()
    time.sleep(1.0)  # requests still in flight when wrk stopped finish their writes
    stored, spam, emails = stored_by_prefix(service_db, run_ids)
    return Outcome(
        service=max(service_runs, key=lambda r: r.rps),
        floor=max(floor_runs, key=lambda r: r.rps),
        acknowledged=sum(r.acknowledged for r in service_runs),
        stored=stored,
        errors=sum(r.errors for r in service_runs),
        spam=spam,
        emails=emails,
    )


def run(ctx: Context, engine: str) -> None:
    """SQLite: 16 and 64 connections; PostgreSQL: 16 connections (each vs its own floor)."""
    name = "SQLite" if engine == "sqlite" else "PostgreSQL"
    print(f"\n== submit on {name}", flush=True)
    service_db = ctx.database(engine, "submit")
    prepare_database(service_db)
    floor_db = ctx.database(engine, "floor")
    sink = start_sink(workdir=ctx.workdir, name=f"sink-submit-{engine}")
    service = floor = None
    try:
        service = start_service(
            env={"QUOTE_DATABASE_URL": service_db.url, **sink_env(sink)},
            workdir=ctx.workdir,
            name=f"service-{engine}",
        )
        floor = start_floor(database_url=floor_db.url, workdir=ctx.workdir)
        # On PostgreSQL the database's work is done by its server processes: measured too.
        service_meters: list[Meter] = [Backends(service_db)] if engine == "postgresql" else []
        floor_meters: list[Meter] = [Backends(floor_db)] if engine == "postgresql" else []
        plan = [(16, ctx.rounds)] + ([(64, 1)] if engine == "sqlite" else [])
        browsers = form_variants(service.url, max(c for c, _ in plan))
        for connections, rounds in plan:
            for kind in KINDS:
                outcome = compare(
                    ctx,
                    kind=kind,
                    service=service,
                    floor=floor,
                    service_db=service_db,
                    browsers=browsers[:connections],
                    connections=connections,
                    rounds=rounds,
                    label=f"{name} c{connections}",
                    watch=[sink, *service_meters],
                    floor_watch=floor_meters,
                )
                ctx.report.add(row(kind, name, connections, outcome, rounds))
    finally:
        for process in (service, floor, sink):
            if process is not None:
                process.stop()


def row(kind: str, engine: str, connections: int, o: Outcome, rounds: int) -> Row:
    s, f = o.service, o.floor
    ratio = s.rps / f.rps if f.rps else 0.0
    what = f"{KINDS[kind][4]}, {engine}, {connections} conn"
    details = {
        "rounds": rounds,
        "service": s.summary(),
        "floor": f.summary(),
        "acknowledged": o.acknowledged,
        "stored": o.stored,
        "lost": o.lost,
        "errors": o.errors,
        "spam": o.spam,
        "emails_queued": o.emails,
    }
    clean = o.errors == 0 and o.lost == 0 and o.spam == 0 and o.emails >= 2 * o.stored
    reference = f"floor {f.rps:.0f} req/s ({f.per_core:.0f}/core), p99 {f.p99_ms:.0f} ms"
    details["per_core_ratio"] = s.per_core / f.per_core if f.per_core else None
    if connections == 64:
        return Row(
            what=what,
            measured=(
                f"{s.rps:.0f} req/s ({s.per_core:.0f}/core), p99 {s.p99_ms:.0f} ms; "
                f"{o.errors} errors, {o.lost} lost "
                f"({o.acknowledged} acknowledged, {o.stored} stored)"
            ),
            reference=reference,
            ratio=ratio,
            target="no errors, no lead lost; p99 stated",
            met=clean,
            details=details,
        )
    if engine == "PostgreSQL":
        return Row(
            what=what,
            measured=f"{s.rps:.0f} req/s ({s.per_core:.0f}/core), p50 {s.p50_ms:.0f} ms, "
            f"p99 {s.p99_ms:.0f} ms",
            reference=reference,
            ratio=ratio,
            target=">= 0.60 x floor",
            met=ratio >= 0.6 and clean,
            details=details,
        )
    return Row(
        what=what,
        measured=f"{s.rps:.0f} req/s ({s.per_core:.0f}/core), p50 {s.p50_ms:.0f} ms, "
        f"p99 {s.p99_ms:.0f} ms",
        reference=reference,
        ratio=ratio,
        target=">= 0.60 x floor; p99 <= 50 ms",
        met=ratio >= 0.6 and s.p99_ms <= 50 and clean,
        details=details,
    )
