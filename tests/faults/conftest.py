"""Real processes for the fault tests: the app served by uvicorn (`python -m service run`) on a
free port, an SMTP sink that records every message it accepts and when, a TCP proxy in front of
PostgreSQL that can refuse connections, and patients submitting over HTTP.

Every wait has a deadline, and every process or thread started here is stopped in teardown,
even when the test fails (the app's log is then printed with the failure).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import selectinload

from service.models import Lead, OutboxMessage
from tests.factories import hidden_inputs, quote_data, quote_form
from tests.smtp import free_port

FACILITATOR = "desk@facilitator.example"
SECRET = "faults-secret-" + "x" * 40
SINK_SCRIPT = Path(__file__).with_name("smtp_sink.py")
START_SECONDS = 30.0  # a cold start on a busy 2-core CI machine is a few seconds; this is ample


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def failed(request: pytest.FixtureRequest) -> bool:
    """Whether the test using this fixture failed (or never ran its body)."""
    report = getattr(request.node, "report_call", None)
    return report is None or report.failed


# --- the SMTP sink -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    message_id: str
    recipients: tuple[str, ...]
    at: float  # time.time() when the sink answered 250


class Sink:
    """A real SMTP server (tests/faults/smtp_sink.py) in its own process, on a fixed free port;
    `stop()` kills it (connections are refused until `start()` runs it again)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.path = workdir / "deliveries.jsonl"
        self.path.touch()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, within: float = START_SECONDS) -> Sink:
        self.process = subprocess.Popen(
            [sys.executable, str(SINK_SCRIPT), str(self.port), str(self.path)]
        )
        deadline = time.monotonic() + within
        while True:
            assert self.process.poll() is None, "the SMTP sink exited"
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return self
            assert time.monotonic() < deadline, "the SMTP sink did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    @property
    def deliveries(self) -> list[Delivery]:
        deliveries = []
        for line in self.path.read_text().splitlines(keepends=True):
            if line.endswith("\n"):  # a line still being written is not a delivery yet
                data = json.loads(line)
                deliveries.append(
                    Delivery(data["message_id"], tuple(data["recipients"]), data["at"])
                )
        return deliveries

    def counts(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        return Counter(d.message_id for d in self.deliveries)


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Sink]:
    server = Sink(tmp_path).start()
    yield server
    server.stop()


# --- the app, as operators run it -----------------------------------------------------------


class App:
    """`python -m service run` in a subprocess: its own free port, its log in a file."""

    def __init__(self, *, env: dict[str, str], workdir: Path, name: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> App:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service", "run", "--port", str(self.port)],
                env=self.env,
                cwd=self.workdir,  # no stray .env file is read
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    async def wait_ready(self, within: float = START_SECONDS) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as client:
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"the app exited ({self.process.returncode}):\n{self.log}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/healthz")).status_code == 200:
                        return
                assert time.monotonic() < deadline, f"the app did not start:\n{self.log}"
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        """kill -9: no shutdown hook runs, nothing is released."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    @property
    def log(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-6000:]


def app_env(database_url: str, smtp_port: int, **overrides: object) -> dict[str, str]:
    """The environment of the app under test: QUOTE_* settings only from here."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("QUOTE_")}
    env |= {
        "QUOTE_ENV": "test",
        "QUOTE_DATABASE_URL": database_url,
        "QUOTE_SECRET_KEY": SECRET,
        "QUOTE_SMTP_HOST": "127.0.0.1",
        "QUOTE_SMTP_PORT": str(smtp_port),
        "QUOTE_SMTP_TIMEOUT": "5",
        "QUOTE_MAIL_FROM": "Quote Desk <quotes@faults.example>",
        # Every lead is routed, so it causes two emails: the facilitator's and the patient's.
        "QUOTE_DEFAULT_FACILITATOR_EMAIL": FACILITATOR,
        "QUOTE_RATE_LIMIT": "0",
        "QUOTE_MIN_FILL_SECONDS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env |= {f"QUOTE_{key.upper()}": str(value) for key, value in overrides.items()}
    return env


LaunchApp = Callable[..., App]


@pytest.fixture
def launch_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LaunchApp]:
    """`launch_app(database_url, smtp_port, **settings)` starts the app (await its
    `wait_ready()`); teardown kills what still runs and prints the logs of a failed test."""
    apps: list[App] = []

    def launch(database_url: str, smtp_port: int, **settings: object) -> App:
        app = App(
            env=app_env(database_url, smtp_port, **settings),
            workdir=tmp_path,
            name=f"app{len(apps) + 1}",
        )
        apps.append(app)
        return app.start()

    yield launch
    for app in apps:
        app.kill()
    if failed(request):
        for app in apps:
            print(f"\n===== {app.log_path.name} (last lines) =====\n{app.log}")


# --- a TCP proxy in front of PostgreSQL --------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the database. `refuse()` closes the listening socket and
    cuts every open connection, as a database restart or a network cut does; `accept()`
    listens again on the same port. It runs on its own thread and event loop, so the test's
    own waits never stall it."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy")
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread.start()

    def _call(self, coroutine: Awaitable[None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)  # type: ignore[arg-type]

    def accept(self) -> None:
        self._call(self._listen())

    def refuse(self) -> None:
        self._call(self._close())

    def close(self) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        if self._server is None:  # refused meanwhile: this connection must not get through
            up_writer.close()
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self._writers -= {writer, up_writer}


@pytest.fixture
def postgres_proxy(database_url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A proxy to the test's PostgreSQL database, and the database URL through it."""
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.accept()
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.close()


# --- patients ---------------------------------------------------------------------------------


@dataclass
class Sent:
    """What the load acknowledged, and what it could not know about."""

    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)  # reference -> data
    unanswered: int = 0  # the app died or was down: maybe stored, never acknowledged


def patient_data(n: int) -> dict[str, Any]:
    """A complete request; each patient has their own address."""
    return quote_data(
        full_name=f"Patient Number {n}",
        email=f"patient-{uuid.uuid4().hex[:12]}@example.org",
        consent_marketing=n % 2 == 0,
    )


async def submit_api(client: httpx.AsyncClient, data: dict[str, Any]) -> str:
    """POST /api/v1/quotes; the reference of the 201."""
    response = await client.post("/api/v1/quotes", json=data)
    if response.status_code != 201:
        raise AssertionError(f"API answered {response.status_code}: {response.text[:300]}")
    return str(response.json()["reference"])


async def submit_form(client: httpx.AsyncClient, data: dict[str, Any]) -> str:
    """GET the page, POST the form with its hidden fields as a browser does; the reference of
    the 303."""
    page = await client.get("/")
    assert page.status_code == 200, page.status_code
    response = await client.post("/quote", data={**hidden_inputs(page.text), **quote_form(**data)})
    if response.status_code != 303:
        raise AssertionError(f"form answered {response.status_code}")
    found = re.search(r"/quote/thanks/([^/?#]+)$", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


SUBMITTERS = (submit_api, submit_form)


async def load(
    base_url: str,
    sent: Sent,
    stop: asyncio.Event,
    *,
    clients: int = 4,
    limit: int | None = None,
) -> None:
    """`clients` patients submitting in a loop (half the API, half the form) until `stop` is
    set or `limit` requests were made. A request the app never answered (it was killed or is
    still starting) is counted as unanswered and the patient goes on with a new request."""
    numbers = iter(range(1, (limit or 10**9) + 1))

    async def patient(index: int) -> None:
        submit = SUBMITTERS[index % len(SUBMITTERS)]
        async with httpx.AsyncClient(base_url=base_url, timeout=15) as client:
            while not stop.is_set() and (n := next(numbers, None)) is not None:
                data = patient_data(n)
                try:
                    reference = await submit(client, data)
                except httpx.TransportError:
                    sent.unanswered += 1
                    await asyncio.sleep(0.1)
                    continue
                sent.acknowledged[reference] = data

    await asyncio.gather(*(patient(index) for index in range(clients)))


class FormReader(HTMLParser):
    """What a browser would send from the page's form: text inputs and hidden fields with their
    values, the checked boxes and radios, each select's selected option, each textarea's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        name = attr.get("name", "")
        if tag == "input" and name:
            if attr.get("type") in ("checkbox", "radio"):
                if "checked" in attr:
                    self.values[name] = attr.get("value", "on")
            else:
                self.values[name] = attr.get("value", "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attr:
            self.values[self._select] = attr.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            # A browser drops the line break that directly follows <textarea>.
            text = self.values[self._textarea]
            self.values[self._textarea] = text[1:] if text.startswith("\n") else text
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_values(html: str) -> dict[str, str]:
    reader = FormReader()
    reader.feed(html)
    return reader.values


# --- what the database holds ----------------------------------------------------------------


@dataclass
class Stored:
    leads: dict[str, Lead]  # by reference
    outbox: list[OutboxMessage]


async def stored(database_url: str) -> Stored:
    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            leads = await session.scalars(select(Lead).options(selectinload(Lead.consents)))
            outbox = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            return Stored(leads={lead.reference: lead for lead in leads}, outbox=list(outbox))
    finally:
        await engine.dispose()


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, within: float, what: Callable[[], Awaitable[str]]
) -> None:
    """Poll `check` every 0.2 s; fail with `what()` after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {within:.0f} s: {await what()}")
        await asyncio.sleep(0.2)


def assert_acknowledged_leads_stored(sent: Sent, db: Stored) -> None:
    """Every acknowledged lead is stored as sent, with one consent record per consent."""
    missing = sorted(set(sent.acknowledged) - set(db.leads))
    assert not missing, f"{len(missing)} acknowledged lead(s) lost: {missing[:5]}"
    for reference, data in sent.acknowledged.items():
        lead = db.leads[reference]
        assert lead.email == data["email"] and lead.status == "new", reference
        consents = {consent.kind: consent.granted for consent in lead.consents}
        assert consents == {
            "disclaimer": True,
            "health_data": True,
            "marketing": data["consent_marketing"],
        }, reference


def assert_two_emails_per_lead(db: Stored) -> None:
    """Each stored lead queued its facilitator's email and its patient's confirmation."""
    emails: dict[Any, list[tuple[str, str]]] = {}
    for message in db.outbox:
        emails.setdefault(message.lead_id, []).append((message.kind, message.recipient))
    for lead in db.leads.values():
        assert sorted(emails.get(lead.id, [])) == [
            ("facilitator_new_lead", FACILITATOR),
            ("patient_confirmation", lead.email),
        ], lead.reference
    assert len(db.outbox) == 2 * len(db.leads)


def delivered_all(sink: Sink, db: Stored) -> bool:
    """Every queued email reached the sink at least once, for its recipient."""
    recipients: dict[str, set[str]] = {}
    for delivery in sink.deliveries:
        recipients.setdefault(delivery.message_id, set()).update(delivery.recipients)
    return all(m.recipient in recipients.get(m.message_id, ()) for m in db.outbox)


@contextlib.asynccontextmanager
async def running(task: Awaitable[None]) -> AsyncIterator[asyncio.Task[None]]:
    """Run `task` in the background; cancelled and awaited on the way out, even on failure."""
    background = asyncio.ensure_future(task)
    try:
        yield background
    finally:
        if not background.done():
            background.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await background
