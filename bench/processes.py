"""The processes a benchmark runs (the service, the floor app, SMTP sinks, the mail worker,
the `quote-desk` command) and what they cost: CPU time and memory read from /proc."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR_DIR = ROOT.parent / "shared" / "bench"
PYTHON = sys.executable
TICKS = os.sysconf("SC_CLK_TCK")
# The service's secret in every benchmark: the load signs each form's render time with it, as
# the landing page does for the submission it renders.
SECRET_KEY = "bench-only-secret-key-0123456789abcdef"  # noqa: S105 - a local benchmark's


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy_seconds() -> float:
    """CPU time all cores spent on anything but idling, since boot (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS


def memory_kib(pid: int, key: str = "VmRSS") -> int:
    """Resident memory (VmRSS), or its peak so far (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise LookupError(key)


@dataclass
class Process:
    """A child process the benchmark started; `stop()` ends it (and only it)."""

    name: str
    popen: subprocess.Popen[bytes]
    url: str = ""
    log: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self, timeout: float = 15) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    def alive(self) -> bool:
        return self.popen.poll() is None


def start(
    name: str, cmd: list[str], *, env: dict[str, str], cwd: Path, log: Path, url: str = ""
) -> Process:
    handle = log.open("ab")
    popen = subprocess.Popen(
        cmd,
        env={**os.environ, **env},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    handle.close()
    return Process(name=name, popen=popen, url=url, log=log)


def wait_until_up(process: Process, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            tail = process.log.read_text()[-2000:] if process.log else ""
            raise RuntimeError(f"{process.name} exited at start:\n{tail}")
        try:
            with urllib.request.urlopen(process.url + path, timeout=2):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.1)
    process.stop()
    raise RuntimeError(f"{process.name} did not answer {path} within {timeout:.0f} s")


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def uvicorn(app: list[str], port: int) -> list[str]:
    """The same server settings for the service and the floor app: one process, uvicorn's
    defaults (uvloop and httptools when installed), no access log."""
    return [
        PYTHON,
        "-m",
        "uvicorn",
        *app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def start_service(*, env: dict[str, str], workdir: Path, name: str = "service") -> Process:
    port = free_port()
    process = start(
        name,
        uvicorn(["service.app:create_app", "--factory"], port),
        env={
            "QUOTE_ENV": "development",
            "QUOTE_RATE_LIMIT": "0",
            "QUOTE_SECRET_KEY": SECRET_KEY,
            **env,
        },
        cwd=ROOT,
        log=workdir / f"{name}.log",
        url=f"http://127.0.0.1:{port}",
    )
    wait_until_up(process, "/healthz")
    return process


def start_floor(*, database_url: str, workdir: Path) -> Process:
    port = free_port()
    process = start(
        "floor",
        uvicorn(["floor_app:app"], port),
        env={"FLOOR_DB": database_url},
        cwd=FLOOR_DIR,
        log=workdir / "floor.log",
        url=f"http://127.0.0.1:{port}",
    )
    wait_until_up(process, "/")
    return process


def start_sink(*, workdir: Path, delay: float = 0.0, name: str = "sink") -> Process:
    port = free_port()
    received = workdir / f"{name}-received.txt"
    received.write_text("")
    cmd = [PYTHON, "-m", "bench.sink", "--port", str(port), "--delay", str(delay)]
    process = start(
        name, [*cmd, "--log", str(received)], env={}, cwd=ROOT, log=workdir / f"{name}.log"
    )
    wait_for_port(port)
    process.extra = {"port": str(port), "received": str(received)}
    return process


def sink_env(sink: Process) -> dict[str, str]:
    return {"QUOTE_SMTP_HOST": "127.0.0.1", "QUOTE_SMTP_PORT": sink.extra["port"]}


def received_ids(sink: Process) -> list[str]:
    return Path(sink.extra["received"]).read_text().split()


def quote_desk(*args: str, database_url: str, stdin: str | None = None) -> str:
    """Run the `quote-desk` command against a database; its output, or an error with it."""
    done = subprocess.run(
        [PYTHON, "-m", "service", *args],
        env={**os.environ, "QUOTE_DATABASE_URL": database_url, "QUOTE_ENV": "development"},
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"quote-desk {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def quote_desk_background(*args: str, database_url: str, workdir: Path, name: str) -> Process:
    """The `quote-desk` command in the background (a long demo-data run beside other work)."""
    return start(
        name,
        [PYTHON, "-m", "service", *args],
        env={"QUOTE_DATABASE_URL": database_url, "QUOTE_ENV": "development"},
        cwd=ROOT,
        log=workdir / f"{name}.log",
    )


def start_worker(*, database_url: str, env: dict[str, str], workdir: Path, name: str) -> Process:
    return start(
        name,
        [PYTHON, "-m", "service", "worker"],
        env={"QUOTE_DATABASE_URL": database_url, "QUOTE_ENV": "development", **env},
        cwd=ROOT,
        log=workdir / f"{name}.log",
    )
