"""Is a submit slowed by the mail server? The service under the same form load with an SMTP
server that takes 2 s per message and with one that answers at once; and, for contrast, a
submit that sends inside the request against the same slow server."""

from __future__ import annotations

from bench.context import Context
from bench.forms import floor_form_variants, form_variants, prepare_database
from bench.load import LoadResult, run_wrk
from bench.processes import (
    ROOT,
    Process,
    free_port,
    sink_env,
    start,
    start_service,
    start_sink,
    uvicorn,
    wait_until_up,
)
from bench.report import Row

SLOW_SECONDS = 2.0


def service_p95(ctx: Context, *, sink: Process, label: str) -> LoadResult:
    database = ctx.database("sqlite", f"smtp-{label}")
    prepare_database(database)
    service = start_service(
        env={"QUOTE_DATABASE_URL": database.url, **sink_env(sink)},
        workdir=ctx.workdir,
        name=f"service-smtp-{label}",
    )
    try:
        return ctx.report.load(
            run_wrk(
                name=f"service form, SMTP {label}",
                target=service,
                path="/quote",
                variants=form_variants(service.url, 16),
                expect=(303,),
                connections=16,
                seconds=ctx.seconds,
                run_id=ctx.run_id("smtp"),
                workdir=ctx.workdir,
                watch=[sink],
            )
        )
    finally:
        service.stop()


def inline_p95(ctx: Context, *, sink: Process, label: str) -> LoadResult:
    port = free_port()
    app = start(
        f"inline-{label}",
        uvicorn(["bench.inline_send:app"], port),
        env={"BENCH_SMTP_PORT": sink.extra["port"]},
        cwd=ROOT,
        log=ctx.workdir / f"inline-{label}.log",
        url=f"http://127.0.0.1:{port}",
    )
    wait_until_up(app, "/")
    try:
        return ctx.report.load(
            run_wrk(
                name=f"send-in-request form, SMTP {label}",
                target=app,
                path="/quote",
                variants=floor_form_variants(),
                expect=(303,),
                connections=16,
                seconds=ctx.seconds,
                run_id=ctx.run_id("inline"),
                workdir=ctx.workdir,
                watch=[sink],
            )
        )
    finally:
        app.stop()


def run(ctx: Context) -> None:
    print("\n== submit with a slow mail server", flush=True)
    fast = start_sink(workdir=ctx.workdir, name="sink-instant")
    slow = start_sink(workdir=ctx.workdir, delay=SLOW_SECONDS, name="sink-slow")
    try:
        quick_runs: list[LoadResult] = []
        slow_runs: list[LoadResult] = []
        for n in range(1 if ctx.quick else 2):
            order = [(fast, quick_runs, "instant"), (slow, slow_runs, "2 s")]
            for sink, runs, label in order if n % 2 == 0 else reversed(order):
                runs.append(service_p95(ctx, sink=sink, label=label))
        instant = min(quick_runs, key=lambda r: r.p95_ms)
        delayed = min(slow_runs, key=lambda r: r.p95_ms)
        ratio = delayed.p95_ms / instant.p95_ms
        ctx.report.add(
            Row(
                what="submit p95, SMTP 2 s/message vs instant (16 conn)",
                measured=f"p95 {delayed.p95_ms:.0f} ms with the 2 s server",
                reference=f"p95 {instant.p95_ms:.0f} ms with the instant one",
                ratio=ratio,
                target="ratio <= 1.2",
                met=ratio <= 1.2 and delayed.errors == 0 and instant.errors == 0,
                details={"slow": delayed.summary(), "instant": instant.summary()},
            )
        )
        inline_fast = inline_p95(ctx, sink=fast, label="instant")
        inline_slow = inline_p95(ctx, sink=slow, label="2 s")
        ctx.report.add(
            Row(
                what="  contrast: sending inside the request",
                measured=f"p95 {inline_slow.p95_ms:.0f} ms with the 2 s server",
                reference=f"p95 {inline_fast.p95_ms:.0f} ms with the instant one",
                ratio=inline_slow.p95_ms / inline_fast.p95_ms,
                target="(shown for contrast)",
                met=None,
                details={"slow": inline_slow.summary(), "instant": inline_fast.summary()},
            )
        )
    finally:
        fast.stop()
        slow.stop()
