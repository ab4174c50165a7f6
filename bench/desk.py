"""The desk at scale: databases filled by `quote-desk demo-data` to 1%, 10% and 100% of
`--leads` (submit latency measured on each), then every list filter, search, a deep keyset
page and the stats, timed through HTTP as a signed-in coordinator, on SQLite and PostgreSQL.
The CSV export's memory and speed are measured on a database of their own."""

from __future__ import annotations

import base64
import csv
import http.client
import io
import math
import statistics
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bench.context import Context
from bench.databases import BenchDatabase
from bench.forms import form_variants, json_variants, patient_email, prepare_database
from bench.http import Client, sign_in
from bench.load import LoadResult, run_wrk
from bench.processes import (
    Process,
    memory_kib,
    quote_desk,
    quote_desk_background,
    sink_env,
    start_service,
    start_sink,
)
from bench.report import Row

COORDINATOR = ("bench-admin@example.org", "a long benchmark password")
TARGET_MS = 50.0
SAMPLE_BUDGET_MS = 8000.0  # per desk request measured, once warm


def add_coordinator(database: BenchDatabase) -> None:
    email, password = COORDINATOR
    quote_desk(
        "coordinator",
        "create",
        email,
        "--role",
        "admin",
        database_url=database.url,
        stdin=password + "\n",
    )


def demo_data(database: BenchDatabase, count: int) -> float:
    started = time.perf_counter()
    quote_desk("demo-data", "--leads", str(count), database_url=database.url)
    return time.perf_counter() - started


def _size(n: int) -> str:
    return (
        f"{n // 1_000_000}M"
        if n >= 1_000_000 and n % 1_000_000 == 0
        else (f"{n // 1000}k" if n >= 1000 else str(n))
    )


# --- submit latency as the table grows ---------------------------------------------------


def submit_at(ctx: Context, database: BenchDatabase, size: int) -> LoadResult:
    sink = start_sink(workdir=ctx.workdir, name=f"sink-size-{size}")
    service = start_service(
        env={"QUOTE_DATABASE_URL": database.url, **sink_env(sink)},
        workdir=ctx.workdir,
        name=f"service-size-{size}",
    )
    try:
        return ctx.report.load(
            run_wrk(
                name=f"service form at {_size(size)} leads",
                target=service,
                path="/quote",
                variants=form_variants(service.url, 16),
                expect=(303,),
                connections=16,
                seconds=ctx.seconds,
                run_id=ctx.run_id("size"),
                workdir=ctx.workdir,
                watch=[sink],
            )
        )
    finally:
        service.stop()
        sink.stop()


# --- desk requests ----------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    path: str
    p50_ms: float
    p95_ms: float
    max_ms: float
    samples: int


def _moment(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def keyset_cursor(created_at: object, lead_id: object) -> str:
    """The desk's `after=` value for a lead: what its "next page" link carries (made here to
    jump deep without following thousands of links)."""
    ident = uuid.UUID(str(lead_id)).hex
    raw = f"{_moment(created_at).isoformat()}|{ident}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def desk_paths(database: BenchDatabase, service: Process) -> list[tuple[str, str, str | None]]:
    """(name, path, text the answer must contain) for every request measured."""
    # One real submit gives a reference and an email address to search for.
    marker = uuid.uuid4().hex[:10]
    email = patient_email(marker)
    body = json_variants()[0].body(marker)
    answer = Client(service.url).post_json("/api/v1/quotes", body.encode())
    if answer.status != 201:
        raise RuntimeError(f"the search lead was refused: {answer.status}")
    reference = answer.text.split('"reference":"')[1].split('"')[0]
    total = int(database.scalar("SELECT count(*) FROM leads"))
    facilitator = database.scalar("SELECT id FROM facilitators ORDER BY id LIMIT 1")
    treatment = database.scalar("SELECT treatment FROM leads ORDER BY created_at LIMIT 1")
    deep = database.rows(
        "SELECT created_at, id, reference FROM leads ORDER BY created_at DESC, id DESC "
        "LIMIT 2 OFFSET ?",
        total // 2,
    )
    cursor = keyset_cursor(deep[0][0], deep[0][1])
    today = date.today()
    since, until = (today - timedelta(days=30)).isoformat(), today.isoformat()
    q = urllib.parse.quote
    return [
        ("first page", "/desk/leads", None),
        ("status=won", "/desk/leads?status=won", None),
        ("facilitator", f"/desk/leads?facilitator={facilitator}", None),
        ("language=de", "/desk/leads?language=de", None),
        ("treatment", f"/desk/leads?treatment={q(treatment)}", None),
        ("unrouted", "/desk/leads?unrouted=1", None),
        ("dead email", "/desk/leads?dead_email=1", None),
        ("last 30 days", f"/desk/leads?date_from={since}&date_to={until}", None),
        ("search: reference", f"/desk/leads?q={reference}", reference),
        ("search: email", f"/desk/leads?q={q(email)}", reference),
        ("search: name substring", "/desk/leads?q=fischer", None),
        ("search: no match", "/desk/leads?q=zzzz", None),
        ("deep keyset page", f"/desk/leads?after={cursor}", str(deep[1][2])),
        ("/desk/stats", "/desk/stats", None),
    ]


def time_requests(ctx: Context, client: Client, name: str, path: str, must: str | None) -> Timing:
    """Warm-ups, then up to 20 timed requests one after another; a request that takes far
    longer than the target gets fewer (at least 5), so a slow page does not eat the run."""

    def get() -> float:
        answer = client.get(path)
        if answer.status != 200:
            raise RuntimeError(f"{path} answered {answer.status}")
        if must is not None and must not in answer.text:
            raise RuntimeError(f"{name}: the page does not show {must}: not measuring it")
        return answer.seconds * 1000

    first = max(get() for _ in range(1 if ctx.quick else 2))
    samples = 5 if ctx.quick else max(5, min(20, int(SAMPLE_BUDGET_MS / first)))
    seconds = [get() for _ in range(samples)]
    seconds.sort()
    p95 = seconds[math.ceil(0.95 * len(seconds)) - 1]  # nearest rank
    return Timing(name, path, statistics.median(seconds), p95, seconds[-1], len(seconds))


def desk_rows(ctx: Context, database: BenchDatabase, engine: str, size: int) -> None:
    sink = start_sink(workdir=ctx.workdir, name=f"sink-desk-{engine}")
    service = start_service(
        env={"QUOTE_DATABASE_URL": database.url, **sink_env(sink)},
        workdir=ctx.workdir,
        name=f"service-desk-{engine}",
    )
    try:
        paths = desk_paths(database, service)
        client = sign_in(service.url, email=COORDINATOR[0], password=COORDINATOR[1])
        for name, path, must in paths:
            t = time_requests(ctx, client, name, path, must)
            label = "SQLite" if engine == "sqlite" else "PostgreSQL"
            ctx.report.add(
                Row(
                    what=f"desk {name}, {label}, {_size(size)} leads",
                    measured=f"p95 {t.p95_ms:.0f} ms (p50 {t.p50_ms:.0f}, max {t.max_ms:.0f})",
                    target=f"p95 <= {TARGET_MS:.0f} ms",
                    met=t.p95_ms <= TARGET_MS,
                    details=vars(t),
                )
            )
    finally:
        service.stop()
        sink.stop()


def run(ctx: Context) -> None:
    """Submit latency on SQLite databases of 1%, 10% and 100% of `--leads`; then the desk at
    full size on SQLite and PostgreSQL. The PostgreSQL database fills in the background while
    the SQLite ones fill (nothing is measured meanwhile)."""
    sizes = [ctx.leads // 100, ctx.leads // 10, ctx.leads]
    print(f"\n== desk, and submit at {', '.join(_size(s) for s in sizes)} leads", flush=True)
    pg: BenchDatabase | None = None
    pg_fill: Process | None = None
    if ctx.postgres is not None:
        pg = ctx.database("postgresql", "desk")
        prepare_database(pg)
        add_coordinator(pg)
        pg_fill = quote_desk_background(
            "demo-data",
            "--leads",
            str(ctx.leads),
            database_url=pg.url,
            workdir=ctx.workdir,
            name="demo-data-pg",
        )
    started = time.perf_counter()
    databases: dict[int, BenchDatabase] = {}
    try:
        for size in sizes:
            databases[size] = ctx.database("sqlite", f"desk-{_size(size)}")
            prepare_database(databases[size])
            took = demo_data(databases[size], size)
            print(f"     demo-data (SQLite): {size} leads in {took:.0f} s", flush=True)
        if pg_fill is not None:
            if pg_fill.popen.wait() != 0:
                raise RuntimeError(f"demo-data on PostgreSQL failed: see {pg_fill.log}")
            print(
                f"     demo-data (PostgreSQL): {ctx.leads} leads, done "
                f"{time.perf_counter() - started:.0f} s after the start",
                flush=True,
            )
    finally:
        if pg_fill is not None:
            pg_fill.stop()
    at = {size: submit_at(ctx, databases[size], size) for size in sizes}
    small, large = at[sizes[0]], at[sizes[-1]]
    growth = large.p50_ms / small.p50_ms
    ctx.report.add(
        Row(
            what="submit at " + " / ".join(_size(s) for s in sizes) + " leads, SQLite, 16 conn",
            measured="p50 "
            + " / ".join(f"{at[s].p50_ms:.0f}" for s in sizes)
            + " ms; "
            + " / ".join(f"{at[s].rps:.0f}" for s in sizes)
            + " req/s",
            reference=f"p50 at {_size(sizes[0])}",
            ratio=growth,
            target="flat (p50 at the largest <= 1.2 x the smallest)",
            met=growth <= 1.2,
            details={_size(s): at[s].summary() for s in sizes},
        )
    )
    largest = databases[ctx.leads]
    add_coordinator(largest)
    desk_rows(ctx, largest, "sqlite", ctx.leads)
    if pg is not None:
        desk_rows(ctx, pg, "postgresql", ctx.leads)


# --- CSV export -------------------------------------------------------------------------


@dataclass
class Export:
    rows: int
    seconds: float
    baseline_kib: int
    peak_kib: int
    complete: bool

    @property
    def growth_mib(self) -> float:
        return (self.peak_kib - self.baseline_kib) / 1024


def export(client: Client, service: Process, path: str) -> Export:
    """Download an export while sampling the server's resident memory every 10 ms."""
    baseline = memory_kib(service.pid)
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], memory_kib(service.pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        answer = client.get(path)
        body, complete = answer.text, answer.status == 200
    except http.client.IncompleteRead as exc:
        body, complete = exc.partial.decode("utf-8", errors="replace"), False
        client.close()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    rows = max(0, sum(1 for _ in csv.reader(io.StringIO(body.lstrip("\ufeff")))) - 1)
    return Export(rows, seconds, baseline, peak[0], complete)


def run_export(ctx: Context) -> None:
    """100,000 demo leads (10,000 with --quick), unrouted so that today's export works on them;
    the whole table, and a tenth of it, to compare the server's peak memory."""
    count = 10_000 if ctx.quick else 100_000
    print(f"\n== CSV export of {count} leads", flush=True)
    database = ctx.database("sqlite", "export")
    prepare_database(database, facilitators=False)
    add_coordinator(database)
    demo_data(database, count)
    tenth = database.scalar(
        "SELECT created_at FROM leads ORDER BY created_at DESC LIMIT 1 OFFSET ?", count // 10
    )
    since = _moment(tenth).date().isoformat()
    service = start_service(
        env={"QUOTE_DATABASE_URL": database.url, "QUOTE_MAILER_ENABLED": "false"},
        workdir=ctx.workdir,
        name="service-export",
    )
    try:
        client = sign_in(service.url, email=COORDINATOR[0], password=COORDINATOR[1])
        client.get("/desk/leads")  # the first desk page warms what every request uses
        part = export(client, service, f"/desk/leads/export.csv?date_from={since}")
        whole = export(client, service, "/desk/leads/export.csv")
        routed = export_routed(client, service, database)
    finally:
        service.stop()
    flat = whole.growth_mib <= max(2 * part.growth_mib, part.growth_mib + 10)
    ctx.report.add(
        Row(
            what=f"CSV export of {whole.rows} leads",
            measured=(
                f"{whole.rows / whole.seconds:.0f} rows/s; server RSS +{whole.growth_mib:.0f} MiB "
                f"(peak {whole.peak_kib / 1024:.0f} MiB)"
            ),
            reference=f"{part.rows} rows: +{part.growth_mib:.0f} MiB",
            ratio=whole.growth_mib / part.growth_mib if part.growth_mib > 0 else None,
            target="peak memory flat; rows/s stated",
            met=flat and whole.complete and whole.rows == count,
            details={"whole": vars(whole), "tenth": vars(part)},
        )
    )
    ctx.report.add(
        Row(
            what="  CSV export of routed leads",
            measured=(
                "complete"
                if routed.complete
                else f"cut off after {routed.rows} rows (the stream fails mid-way)"
            ),
            target="a complete file",
            met=routed.complete and routed.rows >= 1,
            details=vars(routed),
        )
    )


def export_routed(client: Client, service: Process, database: BenchDatabase) -> Export:
    """One routed lead (a facilitator added, a lead submitted), exported by its facilitator."""
    prepare_facilitator = ("routed@facilitator.example", "Routed Facilitator")
    quote_desk(
        "facilitator",
        "add",
        prepare_facilitator[0],
        "--name",
        prepare_facilitator[1],
        database_url=database.url,
    )
    body = json_variants()[0].body(uuid.uuid4().hex).encode()
    if Client(service.url).post_json("/api/v1/quotes", body).status != 201:
        raise RuntimeError("the routed lead was refused")
    facilitator = database.scalar(
        "SELECT id FROM facilitators WHERE email = ?", prepare_facilitator[0]
    )
    return export(client, service, f"/desk/leads/export.csv?facilitator={facilitator}")
