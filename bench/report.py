"""The benchmark's table (one row per target of the performance issue) and its JSON file."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.load import LoadResult


@dataclass
class Row:
    what: str
    measured: str
    reference: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None  # None: stated, not judged (or not measurable here)
    details: dict[str, Any] = field(default_factory=dict)

    def verdict(self) -> str:
        return {True: "met", False: "NOT MET", None: "-"}[self.met]


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    runs: list[LoadResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(f"  -> {row.what}: {row.measured}  [{row.verdict()}]", flush=True)
        return row

    def load(self, result: LoadResult) -> LoadResult:
        self.runs.append(result)
        cores = ", ".join(f"{k} {v:.2f}" for k, v in result.server_cores.items())
        print(
            f"     {result.name:34} c={result.connections:<3} {result.rps:7.0f} req/s "
            f"p50 {result.p50_ms:6.1f} p95 {result.p95_ms:6.1f} p99 {result.p99_ms:7.1f} ms "
            f"err {result.errors}  cores: {cores}, wrk {result.wrk_cores:.2f}, "
            f"others {result.other_cores:.2f}",
            flush=True,
        )
        return result

    def table(self) -> str:
        header = ("what", "measured", "reference", "ratio", "target", "met")
        lines = [
            (
                r.what,
                r.measured,
                r.reference,
                "" if r.ratio is None else f"{r.ratio:.2f}",
                r.target,
                r.verdict(),
            )
            for r in self.rows
        ]
        widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]
        out = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
        out.append("-+-".join("-" * w for w in widths))
        out += [" | ".join(str(c).ljust(w) for c, w in zip(x, widths, strict=True)) for x in lines]
        return "\n".join(out)

    def saturation(self) -> str:
        """Which side used the CPU in the load runs: the server process or wrk."""
        if not self.runs:
            return "no load runs"
        server = [max(r.server_cores.values(), default=0.0) for r in self.runs]
        generator = [r.wrk_cores for r in self.runs]
        busiest = max(self.runs, key=lambda r: r.wrk_cores)
        others = [r.other_cores for r in self.runs]
        return (
            f"CPU during the {len(self.runs)} wrk runs: the loaded server process used "
            f"{min(server):.2f}-{max(server):.2f} cores (one Python process: 1 core is its "
            f"ceiling, a little more with its SQLite writer thread), wrk {min(generator):.2f}-"
            f"{max(generator):.2f} cores (most in '{busiest.name}'), on {os.cpu_count()} cores; "
            f"other processes on the machine took {min(others):.2f}-{max(others):.2f} cores "
            f"meanwhile (mean {sum(others) / len(others):.2f}). "
            + (
                "The server saturated; the load generator did not."
                if max(generator) < 0.5 and max(server) >= 0.8
                else "Check the runs: the load generator may share the limit."
            )
        )

    def write(self, path: Path, *, args: dict[str, Any], started: datetime, seconds: float) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "started": started.isoformat(timespec="seconds"),
            "duration_s": round(seconds),
            "machine": machine() | self.meta,
            "args": args,
            "rows": [asdict(r) | {"verdict": r.verdict()} for r in self.rows],
            "saturation": self.saturation(),
            "runs": [asdict(r) for r in self.runs],
            "notes": self.notes,
        }
        path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory = f"{int(meminfo.read_text().split()[1]) / 1024 / 1024:.0f} GiB"
    versions: dict[str, str | None] = {}
    for name in ("litestar", "sqlalchemy", "uvicorn", "uvloop", "httptools", "pydantic"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "wrk": wrk.splitlines()[0] if wrk else None,
        "packages": versions,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),
    }
