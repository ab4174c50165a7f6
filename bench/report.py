"""The benchmark's table (one row per performance target) and its JSON file."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections import Counter
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
        """Which side used the CPU in the load runs: the server process, wrk, or neither
        because other processes of the machine took it."""
        if not self.runs:
            return "no load runs"
        server = [max(r.server_cores.values(), default=0.0) for r in self.runs]
        generator = [r.wrk_cores for r in self.runs]
        others = [r.other_cores for r in self.runs]
        cores = os.cpu_count() or 1
        kinds = Counter(_limit(r, cores) for r in self.runs)
        return (
            f"CPU during the {len(self.runs)} wrk runs: the loaded server process used "
            f"{min(server):.2f}-{max(server):.2f} cores (one Python process: 1 core is its "
            f"ceiling, a little more with its SQLite writer thread), wrk {min(generator):.2f}-"
            f"{max(generator):.2f}, other processes of the machine {min(others):.2f}-"
            f"{max(others):.2f} (mean {sum(others) / len(others):.2f}), on {cores} cores. "
            f"Limited by: " + ", ".join(f"{k} in {n}" for k, n in kinds.most_common()) + "."
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


def _limit(run: LoadResult, cores: int) -> str:
    """What held a run back: its server (a full core), wrk, or a machine kept busy by others."""
    server = max(run.server_cores.values(), default=0.0)
    if run.wrk_cores >= 0.8:
        return "the load generator"
    if server >= 0.85:
        return "the server's one core"
    if server + run.wrk_cores + run.other_cores >= 0.85 * cores:
        return "a machine shared with other work"
    return "waiting (neither side busy)"


def markdown(results: Path) -> str:
    """A results file's rows as a Markdown table, and the machine it ran on."""
    data = json.loads(results.read_text())
    lines = ["| what | measured | reference | ratio | target | met |", "|---|---|---|---|---|---|"]
    for row in data["rows"]:
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}"
        cells = [row["what"].strip(), row["measured"], row["reference"], ratio, row["target"]]
        cells.append(row["verdict"])
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    m = data["machine"]
    others = [r["other_cores"] for r in data["runs"]]
    lines.append("")
    lines.append(
        f"{data['started'][:10]}, {m['cores']} cores ({m['cpu']}), {m['memory']}, Python "
        f"{m['python']}, {m['wrk']}; {data['duration_s'] / 60:.0f} min. Other processes on "
        f"the machine took {sum(others) / max(len(others), 1):.2f} cores on average during "
        "the load runs."
    )
    return "\n".join(lines)


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
        "wrk": wrk.splitlines()[0].split(" [")[0] if wrk else None,
        "packages": versions,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),
    }
