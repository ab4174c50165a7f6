"""Load with wrk: requests made unique by a per-request id, every answer's status counted,
latency percentiles, and the CPU time that the load generator and each server spent."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bench.processes import Process, machine_busy_seconds

# Each request: one of the prepared variants (one per simulated browser: its own cookie and
# hidden fields), in turn, with a unique id between `before` and `after` in the body (no body
# when `before` is empty: a GET), then what `suffixes` holds for that id (a form's render time,
# signed for that submission id), if anything.
LUA = """
local variants = {variants}
local suffixes = {suffixes}
local run = "{run}"
local threads = {{}}
local tid_counter = 0
function setup(thread)
  tid_counter = tid_counter + 1
  thread:set("tid", tid_counter)
  table.insert(threads, thread)
end
function init(args)
  counter = 0
  statuses = {{}}
end
function request()
  counter = counter + 1
  local v = variants[(counter % #variants) + 1]
  local id = run .. "-" .. tid .. "-" .. counter
  if v.before == "" then
    return wrk.format("{method}", "{path}", v.headers, nil)
  end
  local per_thread = suffixes[tid]
  local suffix = per_thread and per_thread[counter] or ""
  return wrk.format("{method}", "{path}", v.headers, v.before .. id .. v.after .. suffix)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local counts = {{}}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[tostring(status)] = (counts[tostring(status)] or 0) + n
    end
  end
  local parts = {{}}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%s": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-RESULT {{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d, "status_errors": %d, "p50": %d, "p90": %d, "p95": %d, "p99": %d, ' ..
    '"max": %d, "statuses": {{%s}}}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, table.concat(parts, ", ")))
end
"""


class Meter(Protocol):
    """Anything whose CPU time can be read: a process, or a database's server processes."""

    name: str

    def cpu(self) -> float: ...


# wrk's threads (-t2), and the most requests one of them can make in a second (the suffixes
# are made beforehand for every id a run can reach).
WRK_THREADS = 2
MAX_RPS_PER_THREAD = 2000


@dataclass(frozen=True, slots=True)
class Variant:
    headers: dict[str, str]
    before: str
    after: str = ""
    # What follows a request's id in its body, made from that id: for the form, `&form_ts=`
    # and the render time signed for that submission, as a page rendered for it would carry.
    suffix: Callable[[str], str] | None = None

    def body(self, request_id: str) -> str:
        """The body of the request with this id (as the load script makes it)."""
        suffix = self.suffix(request_id) if self.suffix else ""
        return f"{self.before}{request_id}{self.after}{suffix}"


@dataclass
class LoadResult:
    name: str
    connections: int
    seconds: float
    requests: int
    acknowledged: int  # answers with the expected status
    errors: int  # socket errors, timeouts and any other status
    statuses: dict[str, int]
    rps: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    server_cores: dict[str, float] = field(default_factory=dict)
    wrk_cores: float = 0.0
    other_cores: float = 0.0  # CPU that other processes of the machine took meanwhile

    @property
    def per_core(self) -> float:
        """Requests per second for each core the loaded server used: steadier than req/s when
        other processes take part of the machine."""
        used = max(self.server_cores.values(), default=0.0)
        return self.rps / used if used else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "rps": round(self.rps, 1),
            "rps_per_server_core": round(self.per_core, 1),
            "p50_ms": round(self.p50_ms, 1),
            "p95_ms": round(self.p95_ms, 1),
            "p99_ms": round(self.p99_ms, 1),
            "requests": self.requests,
            "acknowledged": self.acknowledged,
            "errors": self.errors,
            "server_cores": {k: round(v, 2) for k, v in self.server_cores.items()},
            "wrk_cores": round(self.wrk_cores, 2),
            "other_cores": round(self.other_cores, 2),
        }


def require_wrk() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench does it as root)")


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for these values


def _lua_variants(variants: list[Variant]) -> str:
    items = []
    for v in variants:
        headers = ", ".join(f"[{_lua_string(k)}] = {_lua_string(x)}" for k, x in v.headers.items())
        items.append(
            f"{{headers = {{{headers}}}, before = {_lua_string(v.before)}, "
            f"after = {_lua_string(v.after)}}}"
        )
    return "{" + ",\n".join(items) + "}"


def _lua_suffixes(variants: list[Variant], *, run_id: str, seconds: float) -> str:
    """suffixes[thread][counter] for every request id a run can make (the variants share one
    way of making them; see bench.forms.form_variants)."""
    make = next((v.suffix for v in variants if v.suffix is not None), None)
    if make is None:
        return "{}"
    per_thread = int(seconds * MAX_RPS_PER_THREAD) + 100
    threads = []
    for tid in range(1, WRK_THREADS + 1):
        values = ",".join(_lua_string(make(f"{run_id}-{tid}-{n}")) for n in range(1, per_thread))
        threads.append("{" + values + "}")
    return "{" + ",\n".join(threads) + "}"


def run_wrk(
    *,
    name: str,
    target: Process,
    path: str,
    variants: list[Variant],
    expect: tuple[int, ...],
    connections: int,
    seconds: float,
    run_id: str,
    workdir: Path,
    method: str = "POST",
    watch: list[Meter] | None = None,
    timeout_s: int = 30,
) -> LoadResult:
    """Load `target` for `seconds`; CPU is measured for `target`, each `watch`ed process and wrk."""
    script = workdir / f"{run_id}.lua"
    script.write_text(
        LUA.format(
            variants=_lua_variants(variants),
            suffixes=_lua_suffixes(variants, run_id=run_id, seconds=seconds),
            run=run_id,
            method=method,
            path=path,
        )
    )
    watched: list[Meter] = [target, *(watch or [])]
    cpu_before = {p.name: p.cpu() for p in watched}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = machine_busy_seconds()
    started = time.perf_counter()
    done = subprocess.run(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={timeout_s}s",
            "-s",
            str(script),
            target.url,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    out = done.stdout
    wall = time.perf_counter() - started
    busy = (machine_busy_seconds() - busy_before) / wall
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cores = {p.name: (p.cpu() - cpu_before[p.name]) / wall for p in watched}
    wrk_cpu = (children_after.ru_utime - children_before.ru_utime) + (
        children_after.ru_stime - children_before.ru_stime
    )
    line = next(x for x in out.splitlines() if x.startswith("WRK-RESULT "))
    data = json.loads(line.removeprefix("WRK-RESULT "))
    statuses = {str(k): int(v) for k, v in data["statuses"].items()}
    acknowledged = sum(n for s, n in statuses.items() if int(s) in expect)
    socket_errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    duration = data["duration_us"] / 1e6
    return LoadResult(
        name=name,
        connections=connections,
        seconds=duration,
        requests=data["requests"],
        acknowledged=acknowledged,
        errors=socket_errors + (sum(statuses.values()) - acknowledged),
        statuses=statuses,
        rps=data["requests"] / duration,
        p50_ms=data["p50"] / 1000,
        p90_ms=data["p90"] / 1000,
        p95_ms=data["p95"] / 1000,
        p99_ms=data["p99"] / 1000,
        max_ms=data["max"] / 1000,
        server_cores=server_cores,
        wrk_cores=wrk_cpu / wall,
        other_cores=max(0.0, busy - sum(server_cores.values()) - wrk_cpu / wall),
    )
