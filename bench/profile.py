"""Where the submit path's time goes: py-spy samples the service (every thread) while wrk posts
the form at 16 connections on SQLite, and the samples are summed by thread, by package (the
innermost frame's) and by function (own time, and time including what it calls).

Run: python -m bench --only profile  (py-spy comes with `pip install -e ".[bench]"`)
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from bench.context import Context
from bench.forms import form_variants, prepare_database
from bench.load import run_wrk
from bench.processes import PYTHON, sink_env, start_service, start_sink

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]+)(?::\d+)?\)$")
THIRD_PARTY = (
    "sqlalchemy",
    "litestar",
    "jinja2",
    "markupsafe",
    "pydantic",
    "pydantic_core",
    "phonenumbers",
    "email_validator",
    "aiosqlite",
    "uvicorn",
    "httptools",
    "uvloop",
    "aiosmtplib",
    "msgspec",
    "multipart",
    "multidict",
    "click",
    "idna",
    "dns",
    "asyncpg",
    "greenlet",
)


def package(path: str) -> str:
    head = path.split("/", 1)[0]
    if head == "service":
        return "service"
    return head if head in THIRD_PARTY else "python stdlib"


def summarise(raw: Path, *, top: int = 25) -> str:
    threads: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        thread, _, frames_text = stack.partition(";")
        name = thread.split(": ", 1)[-1]
        frames = [f for f in frames_text.split(";") if f]
        if not frames:
            continue
        total += count
        threads[re.sub(r"_\d+$", "", name)] += count
        parsed = [FRAME.match(f) for f in frames]
        labels = [
            f"{m['func']} ({m['file']})" if m else f for m, f in zip(parsed, frames, strict=True)
        ]
        leaf = parsed[-1]
        packages[package(leaf["file"]) if leaf else "?"] += count
        own[labels[-1]] += count
        for label in set(labels):
            inclusive[label] += count

    def share(n: int) -> str:
        return f"{100 * n / total:5.1f}%"

    out = [f"{total} samples"]
    out.append("\nBy thread:")
    out += [f"  {share(n)}  {t}" for t, n in threads.most_common()]
    out.append("\nBy package of the innermost frame (own time):")
    out += [f"  {share(n)}  {p}" for p, n in packages.most_common()]
    out.append(f"\nTop {top} functions by own time:")
    out += [f"  {share(n)}  {f}" for f, n in own.most_common(top)]
    out.append(f"\nTop {top} service functions, including what they call:")
    ours = [(f, n) for f, n in inclusive.most_common() if "(service/" in f]
    out += [f"  {share(n)}  {f}" for f, n in ours[:top]]
    out.append(f"\nTop {top} library functions, including what they call:")
    theirs = [(f, n) for f, n in inclusive.most_common() if "(service/" not in f]
    out += [f"  {share(n)}  {f}" for f, n in theirs[: top + 15]]
    return "\n".join(out)


def run(ctx: Context) -> None:
    spy = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
    if not Path(spy).exists():
        raise RuntimeError('py-spy is not installed: pip install -e ".[bench]"')
    print("\n== profile: the form submit under load (py-spy)", flush=True)
    database = ctx.database("sqlite", "profile")
    prepare_database(database)
    sink = start_sink(workdir=ctx.workdir, name="sink-profile")
    service = start_service(
        env={"QUOTE_DATABASE_URL": database.url, **sink_env(sink)},
        workdir=ctx.workdir,
        name="service-profile",
    )
    summaries: list[str] = []
    try:
        variants = form_variants(service.url, 16)
        seconds = max(ctx.seconds, 10)
        # Holding the GIL: the Python work that one process can do only one at a time. All
        # samples: also time in C with the GIL released (SQLite itself) and waits for the GIL.
        for label, flags in (("holding the GIL", ["--gil"]), ("all threads, all samples", [])):
            raw = ctx.workdir / f"profile-{len(summaries)}.txt"
            recorder = subprocess.Popen(
                [
                    spy,
                    "record",
                    "-p",
                    str(service.pid),
                    "-d",
                    str(int(seconds)),
                    "-r",
                    "200",
                    "-f",
                    "raw",
                    "-t",
                    "--nonblocking",
                    *flags,
                    "-o",
                    str(raw),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            ctx.report.load(
                run_wrk(
                    name=f"service form, profiled ({label})",
                    target=service,
                    path="/quote",
                    variants=variants,
                    expect=(303,),
                    connections=16,
                    seconds=seconds,
                    run_id=ctx.run_id("profile"),
                    workdir=ctx.workdir,
                    watch=[sink],
                )
            )
            recorder.wait(timeout=60)
            summaries.append(f"=== Samples {label}\n" + summarise(raw))
    finally:
        service.stop()
        sink.stop()
    summary = "\n\n".join(summaries)
    out = Path(__file__).resolve().parent / "results" / "profile-submit.txt"
    out.write_text(summary + "\n")
    print(summary)
    print(f"\nWritten to {out}")
