"""Submit benchmark: the real service against the floor app (../shared/bench), same run, same load.

Each server runs alone under wrk (16 connections, form posts with unique submission ids);
the report gives the service's throughput as a ratio of the floor's, and its p99 latency.
Run: make bench  (needs wrk; `make bench` installs Debian's package when run as root).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLOOR_DIR = ROOT.parent / "shared" / "bench"
WRK_SCRIPT = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
counter = 0
request = function()
  counter = counter + 1
  local body = "{body}&submission_id=bench-" .. tid .. "-" .. os.time() .. "-" .. counter
  local headers = {{["Content-Type"] = "application/x-www-form-urlencoded"}}
  headers["Cookie"] = "{cookie}"
  return wrk.format("POST", "{path}", headers, body)
end
"""
QUOTE_BODY = (
    "full_name=Ana+Peeters&email=ana%40example.org&country=BE&language=nl&contact_method=email"
    "&consent_disclaimer=on&consent_health_data=on&medical_summary=Ischemic+stroke+in+2025"
)
FLOOR_BODY = (
    "full_name=Ana+Peeters&email=ana%40example.org&country=NL"
    "&message=Ischemic+stroke+in+2025%2C+left+side+weakness"
)


@dataclass
class Result:
    name: str
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


def start(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd,
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def landing_form(base: str) -> tuple[str, str]:
    """The form's hidden fields (CSRF token, signed render time) and the cookie, fetched as a
    browser would from the landing page; each request adds its own submission_id."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/").read().decode()
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page))
    assert "_csrf_token" in hidden and "form_ts" in hidden, "the landing page has no form"
    hidden.pop("submission_id", None)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return urllib.parse.urlencode(hidden), cookie


def wrk(
    name: str, url: str, path: str, body: str, cookie: str, seconds: int, workdir: Path
) -> Result:
    script = workdir / f"{name}.lua"
    script.write_text(WRK_SCRIPT.format(body=body, path=path, cookie=cookie))
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return Result(name, requests, rps, _latency(out, "50%"), _latency(out, "99%"), errors)


def _latency(out: str, quantile: str) -> float:
    value, unit = re.search(rf"{quantile}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if not (FLOOR_DIR / "floor_app.py").exists():
        raise SystemExit(f"floor app not found at {FLOOR_DIR}")
    python = sys.executable
    floor_runs: list[Result] = []
    service_runs: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        floor_port, service_port = free_port(), free_port()
        # The mail worker runs in the service as in production, sending every lead's two
        # emails to a local sink in another process.
        sink_port = free_port()
        sink = start(
            [
                python,
                "-m",
                "aiosmtpd",
                "-n",
                "-c",
                "aiosmtpd.handlers.Sink",
                "-l",
                f"127.0.0.1:{sink_port}",
            ],
            {},
            ROOT,
        )
        env = {
            "QUOTE_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'service.db'}",
            "QUOTE_RATE_LIMIT": "0",
            "QUOTE_MIN_FILL_SECONDS": "0",
            "QUOTE_SMTP_HOST": "127.0.0.1",
            "QUOTE_SMTP_PORT": str(sink_port),
        }
        subprocess.run(
            [python, "-m", "service", "db", "upgrade"],
            env={**os.environ, **env},
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        floor = start(
            [
                python,
                "-m",
                "uvicorn",
                "floor_app:app",
                "--port",
                str(floor_port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            {"FLOOR_DB": f"sqlite+aiosqlite:///{workdir / 'floor.db'}"},
            FLOOR_DIR,
        )
        service = start(
            [
                python,
                "-m",
                "uvicorn",
                "service.app:create_app",
                "--factory",
                "--port",
                str(service_port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env,
            ROOT,
        )
        try:
            floor_url, service_url = (f"http://127.0.0.1:{p}" for p in (floor_port, service_port))
            wait_until_up(floor_url + "/")
            wait_until_up(service_url + "/healthz")
            hidden, cookie = landing_form(service_url)
            body = f"{QUOTE_BODY}&{hidden}"
            # Alternate the two, so a noisy neighbour hurts both alike; keep each one's best.
            for _ in range(args.rounds):
                floor_runs.append(
                    wrk("floor", floor_url, "/quote", FLOOR_BODY, "", args.seconds, workdir)
                )
                service_runs.append(
                    wrk("service", service_url, "/quote", body, cookie, args.seconds, workdir)
                )
        finally:
            for process in (floor, service, sink):
                process.terminate()
                process.wait()
        stored, sent = stored_leads(workdir / "service.db")

    floor_result = max(floor_runs, key=lambda r: r.requests_per_second)
    service_result = max(service_runs, key=lambda r: r.requests_per_second)
    print(
        f"{'best of ' + str(args.rounds):12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    )
    for r in (floor_result, service_result):
        rps, p50, p99 = r.requests_per_second, r.p50_ms, r.p99_ms
        print(f"{r.name:12} {rps:9.0f} {p50:8.1f} {p99:8.1f} {r.errors:7d}")
    ratio = service_result.requests_per_second / floor_result.requests_per_second
    acknowledged = sum(r.requests for r in service_runs) - sum(r.errors for r in service_runs)
    print(f"\nthroughput ratio service/floor: {ratio:.0%} (bar: at least 60%)")
    print(f"service p99 at 16 connections: {service_result.p99_ms:.1f} ms (bar: below 50 ms)")
    print(f"leads stored: {stored} of {acknowledged} acknowledged submits; emails sent: {sent}")
    return 0 if stored >= acknowledged and not any(r.errors for r in service_runs) else 1


def stored_leads(database: Path) -> tuple[int, int]:
    """Leads stored, and emails sent while the load ran."""
    with sqlite3.connect(database) as conn:
        leads = conn.execute("SELECT count(*) FROM leads").fetchone()[0]
        sent = conn.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone()[0]
        spam = conn.execute("SELECT count(*) FROM leads WHERE status = 'spam'").fetchone()[0]
    # A spam lead skips routing and mail: the benchmark must measure real submits.
    assert spam == 0, f"{spam} benchmark leads were taken for spam"
    return int(leads), int(sent)


if __name__ == "__main__":
    raise SystemExit(main())
