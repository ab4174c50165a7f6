"""Mail throughput: a backlog of emails queued by real submits (two per lead) drained by one
`quote-desk worker` into a local SMTP server; on PostgreSQL also by two workers at once.
Every Message-ID the server receives is logged, so an email sent twice shows."""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.context import Context
from bench.databases import BenchDatabase
from bench.forms import json_variants, prepare_database
from bench.http import Client
from bench.processes import (
    received_ids,
    sink_env,
    start_service,
    start_sink,
    start_worker,
)
from bench.report import Row

EMAILS = 5000
TARGET = 200.0  # messages per second


def fill(ctx: Context, database: BenchDatabase, leads: int) -> int:
    """Submit `leads` quote requests through the JSON API with the mail worker off; returns
    the emails queued (a routed lead queues two)."""
    service = start_service(
        env={"QUOTE_DATABASE_URL": database.url, "QUOTE_MAILER_ENABLED": "false"},
        workdir=ctx.workdir,
        name=f"service-fill-{database.kind}",
    )
    variant = json_variants()[0]
    prefix = ctx.run_id("mail")

    def submit(batch: range) -> None:
        client = Client(service.url)
        for n in batch:
            body = variant.body(f"{prefix}-{n}").encode()
            answer = client.post_json("/api/v1/quotes", body)
            if answer.status != 201:
                raise RuntimeError(f"submit answered {answer.status}: {answer.text[:200]}")
        client.close()

    try:
        step = -(-leads // 8)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(submit, [range(i, min(i + step, leads)) for i in range(0, leads, step)]))
    finally:
        service.stop()
    return int(database.scalar("SELECT count(*) FROM outbox WHERE status = 'pending'"))


@dataclass
class Drain:
    queued: int
    sent: int
    rate: float  # messages per second from the first delivery to the last (or to the cap)
    wall: float
    received: int
    duplicates: int
    failed: int
    worker_cores: float
    sink_cores: float


def _moment(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def drain(ctx: Context, database: BenchDatabase, *, workers: int, cap: float) -> Drain:
    """Start the workers and wait until every queued email is sent, or `cap` seconds."""
    queued = int(database.scalar("SELECT count(*) FROM outbox WHERE status = 'pending'"))
    sink = start_sink(workdir=ctx.workdir, name=f"sink-mail-{database.kind}-{workers}")
    env = sink_env(sink) | {"QUOTE_MAILER_ENABLED": "true"}
    procs = []
    started = time.perf_counter()
    try:
        procs = [
            start_worker(
                database_url=database.url,
                env=env,
                workdir=ctx.workdir,
                name=f"worker-{database.kind}-{workers}-{n}",
            )
            for n in range(workers)
        ]
        cpu = [0.0] * workers
        while time.perf_counter() - started < cap:
            time.sleep(0.25)
            cpu = [p.cpu() for p in procs]  # read while they run
            if database.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'") >= queued:
                break
        wall = time.perf_counter() - started
        ended = datetime.now(UTC)
        sink_cpu = sink.cpu()
    finally:
        for p in procs:
            p.stop()
        sink.stop()
    sent, first, last = database.rows(
        "SELECT count(*), min(sent_at), max(sent_at) FROM outbox WHERE status = 'sent'"
    )[0]
    # Drained: first to last delivery. Not drained: first delivery to the end of the wait,
    # so that the pauses between batches count.
    drained = sent >= queued
    span = (_moment(last) if drained else ended) - _moment(first) if sent else None
    seconds = span.total_seconds() if span else 0.0
    received = received_ids(sink)
    failed = database.scalar("SELECT count(*) FROM outbox WHERE status IN ('retry', 'dead')")
    return Drain(
        queued=queued,
        sent=int(sent),
        rate=((sent - 1) if drained else sent) / seconds if seconds > 0 else 0.0,
        wall=wall,
        received=len(received),
        duplicates=sum(n - 1 for n in Counter(received).values() if n > 1),
        failed=int(failed),
        worker_cores=sum(cpu) / wall,
        sink_cores=sink_cpu / wall,
    )


def describe(d: Drain) -> str:
    return (
        f"{d.rate:.1f} msg/s ({d.sent} of {d.queued} sent in {d.wall:.0f} s); {d.duplicates} twice"
    )


def run(ctx: Context) -> None:
    emails = 400 if ctx.quick else EMAILS
    cap = 10.0 if ctx.quick else 20.0
    print(f"\n== mail: {emails} queued emails (at most {cap:.0f} s per drain)", flush=True)
    database = ctx.database("sqlite", "mail")
    prepare_database(database)
    fill(ctx, database, emails // 2)
    one = drain(ctx, database, workers=1, cap=cap)
    ctx.report.add(
        Row(
            what=f"mail: {one.queued} queued, 1 worker, SQLite",
            measured=describe(one),
            reference="",
            ratio=None,
            target=">= 200 msg/s, no email twice",
            met=one.rate >= TARGET and one.duplicates == 0 and one.failed == 0,
            details=vars(one),
        )
    )
    if ctx.postgres is None:
        ctx.report.notes.append("PostgreSQL unavailable: the two-worker mail row is missing")
        return
    results = {}
    for workers in (1, 2):
        pg = ctx.database("postgresql", f"mail{workers}")
        prepare_database(pg)
        fill(ctx, pg, emails // 2)
        results[workers] = drain(ctx, pg, workers=workers, cap=cap)
    single, double = results[1], results[2]
    ratio = double.rate / single.rate if single.rate else 0.0
    ctx.report.add(
        Row(
            what=f"mail: {double.queued} queued, 2 workers vs 1, PostgreSQL",
            measured=f"2 workers: {describe(double)}",
            reference=f"1 worker: {describe(single)}",
            ratio=ratio,
            target="> 1 (and >= 200 msg/s), no email twice",
            met=ratio > 1
            and single.rate >= TARGET
            and double.duplicates == 0
            and single.duplicates == 0
            and double.failed == 0,
            details={"one": vars(single), "two": vars(double)},
        )
    )
    print(json.dumps({"one": vars(single), "two": vars(double)}), flush=True)
