"""The landing page (article, disclaimer, form with fresh hidden fields) under 64 connections,
against a static file served by the same process."""

from __future__ import annotations

from bench.context import Context
from bench.forms import prepare_database
from bench.load import LoadResult, Variant, run_wrk
from bench.processes import start_service
from bench.report import Row

STATIC = "/static/app.css"


def run(ctx: Context) -> None:
    print("\n== GET / vs a static file", flush=True)
    database = ctx.database("sqlite", "landing")
    prepare_database(database)
    service = start_service(
        env={"QUOTE_DATABASE_URL": database.url, "QUOTE_MAILER_ENABLED": "false"},
        workdir=ctx.workdir,
        name="service-landing",
    )
    try:
        pages: list[LoadResult] = []
        files: list[LoadResult] = []
        for n in range(1 if ctx.quick else 2):
            order = [("/", pages), (STATIC, files)]
            for path, runs in order if n % 2 == 0 else reversed(order):
                runs.append(
                    ctx.report.load(
                        run_wrk(
                            name=f"GET {path}",
                            target=service,
                            path=path,
                            variants=[Variant(headers={}, before="")],
                            expect=(200,),
                            connections=64,
                            seconds=ctx.seconds,
                            run_id=ctx.run_id("get"),
                            workdir=ctx.workdir,
                            method="GET",
                        )
                    )
                )
    finally:
        service.stop()
    page = max(pages, key=lambda r: r.rps)
    static = max(files, key=lambda r: r.rps)
    ratio = page.rps / static.rps
    ctx.report.add(
        Row(
            what="GET / (64 conn)",
            measured=f"{page.rps:.0f} req/s, p99 {page.p99_ms:.0f} ms",
            reference=f"{STATIC}: {static.rps:.0f} req/s, p99 {static.p99_ms:.0f} ms",
            ratio=ratio,
            target=">= 0.70 x the static file",
            met=ratio >= 0.7 and page.errors == 0,
            details={"page": page.summary(), "static": static.summary()},
        )
    )
