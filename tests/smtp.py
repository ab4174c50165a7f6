"""A real SMTP server (aiosmtpd on a free local port) with variants that refuse or stall,
a clock the tests move by hand, and mail workers built from the test's settings (a pytest
plugin: its fixtures are everyone's; a test folder that sends mail points `settings` at `smtp`
with `mail_settings`)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from service.background import mail_worker
from service.db import Database
from service.mail.worker import Worker
from service.settings import Settings
from tests.conftest import make_settings

MAIL_FROM = "Quote Desk <quotes@quote-desk.test>"
ALERT_EMAIL = "ops@quote-desk.test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    at: float  # time.monotonic() when the server accepted it

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]


@dataclass
class Inbox:
    """aiosmtpd handler recording what arrives. `refuse(address)` may answer RCPT with an
    SMTP reply instead; `rcpt_delay` / `data_delay` make the server slow."""

    refuse: Callable[[str], str | None] = lambda address: None
    rcpt_delay: float = 0.0
    data_delay: float = 0.0
    messages: list[Received] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        if reply := self.refuse(address):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                message=message,  # type: ignore[arg-type]
                at=time.monotonic(),
            )
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]

    async def wait_for(self, count: int, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} of {count} messages arrived"
            await asyncio.sleep(0.01)


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox
    options: dict[str, Any] = field(default_factory=dict)  # aiosmtpd SMTP options, e.g. auth
    controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, **self.options
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


StartSmtp = Callable[..., SmtpServer]


@pytest.fixture
def start_smtp() -> Iterator[StartSmtp]:
    """Start a server: `start_smtp(Inbox(...), port=..., started=True, **aiosmtpd_options)`."""
    servers: list[SmtpServer] = []

    def start(
        inbox: Inbox | None = None,
        port: int | None = None,
        started: bool = True,
        **options: Any,
    ) -> SmtpServer:
        server = SmtpServer(port=port or free_port(), inbox=inbox or Inbox(), options=options)
        servers.append(server)
        return server.start() if started else server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp(start_smtp: StartSmtp) -> SmtpServer:
    return start_smtp()


def mail_settings(database_url: str, server: SmtpServer, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "smtp_timeout": 2.0,
        "mail_from": MAIL_FROM,
        "alert_email": ALERT_EMAIL,
        "public_base_url": "https://quotes.example.test",
        **overrides,
    }
    return make_settings(database_url, **values)


class Clock:
    """The real time plus whatever the test skipped ahead with `advance`."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


MakeWorker = Callable[..., Worker]


@pytest.fixture
async def make_worker(settings: Settings, clock: Clock) -> AsyncIterator[MakeWorker]:
    """Workers as separate processes would run them: each with its own engine."""
    databases: list[Database] = []

    def make(worker_settings: Settings | None = None, **kwargs: Any) -> Worker:
        database = Database(worker_settings or settings)
        databases.append(database)
        kwargs.setdefault("clock", clock)
        return mail_worker(database=database, settings=worker_settings or settings, **kwargs)

    yield make
    for database in databases:
        await database.dispose()
