"""The service as real processes (`python -m service ...`), for tests of what only a process
shows: uvicorn and its workers, signals, logs, several instances (a pytest plugin: the
`processes` fixture starts them and kills every one at the end, whatever happened)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from service import migrations
from service.settings import ROOT


def service_env(**values: str) -> dict[str, str]:
    """This environment without any QUOTE_ setting of the machine, plus `values`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("QUOTE_", "PROMETHEUS_"))}
    return clean | values


@dataclass
class ServiceProcess:
    """One `python -m service <args>`, its output going to `log` (read it with `output()`)."""

    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> ServiceProcess:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "service", *self.args],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: `kill` reaches its children
            )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_until_serving(self, base_url: str, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while True:
            assert self.running(), f"{self.args} exited:\n{self.output()[-3000:]}"
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{self.args} did not serve in {within} s"
            time.sleep(0.1)

    def wait_for_output(self, text: str, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while text not in self.output():
            assert self.running(), f"{self.args} exited:\n{self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"{text!r} not in the output of {self.args}"
            time.sleep(0.1)

    def kill(self) -> None:
        """kill -9, of the process and of anything it started (uvicorn's workers)."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, within: float = 20.0) -> int:
        """SIGTERM, and the exit status once it has stopped (killed past `within`)."""
        assert self.popen is not None
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.kill()
            raise


StartProcess = Callable[..., ServiceProcess]


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[StartProcess]:
    """`processes(args, env, name=...)` starts `python -m service *args`; all are killed after
    the test."""
    started: list[ServiceProcess] = []

    def start(args: list[str], env: dict[str, str], name: str | None = None) -> ServiceProcess:
        log = tmp_path / f"{name or args[0]}-{len(started)}.log"
        process = ServiceProcess(args=args, env=env, log=log).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


@pytest.fixture
def own_sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file of this test's own, for processes that write to it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"
    migrations.upgrade(url)
    return url
