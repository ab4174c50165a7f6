"""`make bench` (python -m bench): every measurable performance target, each
beside its reference in the same run, as one table and `bench/results/latest.json`.

A full run took 20 minutes on a 2-core machine whose other work took 1.3 cores meanwhile
(5 of them filling the million-lead databases); `--quick` (small sizes, one run each, a few
seconds per load) took 5 and writes `bench/results/quick.json` instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import desk, landing, mail, profile, smtp, submit
from bench.context import Context
from bench.databases import DEFAULT_POSTGRES, Postgres
from bench.load import require_wrk
from bench.processes import FLOOR_DIR, ROOT
from bench.report import Report, markdown

RESULTS = ROOT / "bench" / "results"
SECTIONS: dict[str, Callable[[Context], None]] = {
    "submit": lambda ctx: submit.run(ctx, "sqlite"),
    "submit-pg": lambda ctx: submit.run(ctx, "postgresql"),
    "smtp": smtp.run,
    "mail": mail.run,
    "landing": landing.run,
    "desk": desk.run,
    "export": desk.run_export,
}
# Run only when asked (--only profile): sampling slows the server it measures.
EXTRA: dict[str, Callable[[Context], None]] = {"profile": profile.run}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--leads", type=int, help="desk size (default 1,000,000; quick 20,000)")
    parser.add_argument("--seconds", type=float, help="each wrk run (default 8; quick 3)")
    parser.add_argument("--rounds", type=int, help="alternating rounds at 16 conn (default 2)")
    parser.add_argument(
        "--only", action="append", choices=sorted(SECTIONS | EXTRA), help="run these sections only"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("QUOTE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="a database to connect to for CREATE/DROP DATABASE (PostgreSQL rows)",
    )
    parser.add_argument("--out", type=Path, help="the JSON file (default bench/results/...)")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, DBs)")
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="JSON",
        help="print a results file's table as Markdown (for the README) and stop",
    )
    args = parser.parse_args(argv)
    args.leads = args.leads or (20_000 if args.quick else 1_000_000)
    args.seconds = args.seconds or (3.0 if args.quick else 8.0)
    args.rounds = args.rounds or (1 if args.quick else 2)
    args.out = args.out or RESULTS / ("quick.json" if args.quick else "latest.json")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.markdown:
        print(markdown(args.markdown))
        return 0
    require_wrk()
    if not (FLOOR_DIR / "floor_app.py").exists():
        raise SystemExit(f"The floor app is not at {FLOOR_DIR}")
    candidate = Postgres(args.postgres_url)
    postgres = candidate if candidate.available() else None
    if postgres is None:
        print(f"PostgreSQL does not answer at {args.postgres_url}: its rows are skipped.")
    started, clock = datetime.now(UTC), time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="quote-bench-"))
    ctx = Context(
        quick=args.quick,
        seconds=args.seconds,
        rounds=args.rounds,
        leads=args.leads,
        workdir=workdir,
        postgres=postgres,
        report=Report(),
    )
    ctx.report.meta["load_average_at_start"] = os.getloadavg()
    print(f"Benchmark folder: {workdir}")
    failed: list[str] = []
    try:
        for name in args.only or SECTIONS:
            if name.endswith("-pg") and postgres is None:
                continue
            try:
                (SECTIONS | EXTRA)[name](ctx)
            except Exception as exc:  # one broken section must not hide the others' figures
                failed.append(name)
                ctx.report.notes.append(f"section {name} failed: {type(exc).__name__}: {exc}")
                print(f"!! section {name} failed: {type(exc).__name__}: {exc}", flush=True)
    finally:
        if postgres is not None:
            postgres.drop_all()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    seconds = time.perf_counter() - clock
    print("\n" + ctx.report.table())
    print("\n" + ctx.report.saturation())
    for note in ctx.report.notes:
        print(f"- {note}")
    print(f"\nTook {seconds / 60:.1f} min. Written to {args.out}")
    ctx.report.write(
        args.out,
        args={k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        started=started,
        seconds=seconds,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
