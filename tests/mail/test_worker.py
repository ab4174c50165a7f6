"""The worker against real SMTP servers that are down, refuse, stall or are slow; leases,
concurrent workers, stopping, and the submit never waiting for the mail server."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session

from service.app import create_app
from service.db import Database
from service.errors import Refused
from service.leads.workflow import retry_email
from service.mail import outbox
from service.mail.render import Email, Rendered
from service.mail.worker import retry_delay
from service.models import LeadEvent, OutboxMessage
from service.settings import Settings
from tests.conftest import make_settings
from tests.factories import outbox_rows, quote_data, stored_leads
from tests.smtp import (
    ALERT_EMAIL,
    Clock,
    Inbox,
    MakeWorker,
    SmtpServer,
    StartSmtp,
    free_port,
    mail_settings,
)

PATIENT = "ana.peeters@example.org"


async def submit(client: AsyncTestClient, **overrides: object) -> str:  # type: ignore[type-arg]
    response = await client.post("/api/v1/quotes", json=quote_data(**overrides))
    assert response.status_code == 201
    return str(response.json()["reference"])


async def test_smtp_down_then_up_each_email_arrives_exactly_once(
    database_url: str, start_smtp: StartSmtp, make_worker: MakeWorker, clock: Clock
) -> None:
    server = start_smtp(port=free_port(), started=False)  # nothing listens yet
    settings = mail_settings(
        database_url, server, default_facilitator_email="desk@facilitator.example"
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        await submit(client)  # the lead is stored although no mail server answers
    worker = make_worker(settings)

    assert await worker.drain() == 2
    rows = await outbox_rows(database_url)
    assert [row.status for row in rows] == ["retry", "retry"]
    for row in rows:
        assert row.attempts == 1 and row.last_error and row.last_error_code is None
        delay = row.next_attempt_at - clock()
        assert timedelta(seconds=40) < delay <= timedelta(seconds=72)  # 1 min, +-20% jitter

    server.start()
    assert await worker.drain() == 0  # not due yet
    clock.advance(minutes=2)
    assert await worker.drain() == 2
    clock.advance(days=2)
    assert await worker.drain() == 0
    assert sorted(m.rcpt_tos[0] for m in server.inbox.messages) == [
        PATIENT,
        "desk@facilitator.example",
    ]
    assert [row.status for row in await outbox_rows(database_url)] == ["sent", "sent"]
    (lead,) = await stored_leads(database_url)
    timeline = [(e.kind, e.data.get("outcome")) for e in lead.events if e.kind.startswith("email")]
    assert timeline.count(("email_failed", "retry")) == 2
    assert timeline.count(("email_sent", None)) == 2


async def test_451_on_rcpt_is_retried(
    database_url: str, start_smtp: StartSmtp, make_worker: MakeWorker, clock: Clock
) -> None:
    server = start_smtp(Inbox(refuse=lambda a: "451 4.7.1 Greylisted, try again later"))
    settings = mail_settings(database_url, server)
    async with AsyncTestClient(app=create_app(settings)) as client:
        await submit(client)
    await make_worker(settings).drain()
    (row,) = [r for r in await outbox_rows(database_url) if r.kind == "patient_confirmation"]
    assert row.status == "retry" and row.attempts == 1
    assert row.last_error_code == 451 and "Greylisted" in (row.last_error or "")
    assert server.inbox.messages == []


async def test_550_is_dead_after_one_attempt_and_alerts_once(
    database_url: str, start_smtp: StartSmtp, make_worker: MakeWorker, clock: Clock
) -> None:
    refuse = {PATIENT: "550 5.1.1 No such user here"}
    server = start_smtp(Inbox(refuse=refuse.get))
    settings = mail_settings(database_url, server, default_facilitator_email="desk@f.example")
    async with AsyncTestClient(app=create_app(settings)) as client:
        reference = await submit(client)
    worker = make_worker(settings)
    await worker.drain()
    clock.advance(days=3)
    await worker.drain()

    rows = {row.kind: row for row in await outbox_rows(database_url)}
    dead = rows["patient_confirmation"]
    assert dead.status == "dead" and dead.attempts == 1
    assert dead.last_error_code == 550 and "No such user" in (dead.last_error or "")
    assert rows["facilitator_new_lead"].status == "sent"
    (alert,) = server.inbox.to(ALERT_EMAIL)
    assert reference in alert.message["Subject"] and "550" in alert.text
    assert PATIENT not in alert.message["Subject"]
    (lead,) = await stored_leads(database_url)
    failed = [e.data for e in lead.events if e.kind == "email_failed"]
    assert failed == [
        {
            "outbox_id": dead.id,
            "email": "patient_confirmation",
            "message_id": dead.message_id,
            "attempt": 1,
            "outcome": "dead",
            "code": 550,
            "error": dead.last_error,
        }
    ]


async def test_attempts_exhausted_is_dead(
    database_url: str, start_smtp: StartSmtp, make_worker: MakeWorker, clock: Clock
) -> None:
    server = start_smtp(Inbox(refuse=lambda a: "421 4.3.2 Service shutting down"))
    settings = mail_settings(database_url, server, mail_max_attempts=3, alert_email=None)
    async with AsyncTestClient(app=create_app(settings)) as client:
        await submit(client)
    worker = make_worker(settings)
    for _ in range(3):
        await worker.drain()
        clock.advance(hours=1)
    (row,) = await outbox_rows(database_url)
    assert row.status == "dead" and row.attempts == 3 and row.last_error_code == 421


async def test_a_server_stalling_past_the_timeout_means_retry(
    database_url: str, start_smtp: StartSmtp, make_worker: MakeWorker
) -> None:
    server = start_smtp(Inbox(rcpt_delay=3))
    settings = mail_settings(
        database_url, server, smtp_timeout=0.3, mail_batch_size=1, alert_email=None
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        await submit(client)
    await make_worker(settings).drain()
    (row,) = await outbox_rows(database_url)
    assert row.status == "retry" and row.attempts == 1
    assert "Timeout" in (row.last_error or "")


async def test_a_worker_killed_after_claiming_leaves_a_lease_that_expires(
    client: AsyncTestClient,
    settings: Settings,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    clock: Clock,
) -> None:
    await submit(client)
    database = Database(settings)
    try:  # a worker claims both emails, then dies before sending them
        now = clock()
        claimed = await database.write(outbox.claim, now=now, limit=10, lease=timedelta(minutes=5))
    finally:
        await database.dispose()
    assert len(claimed) == 2  # the patient's confirmation and the unrouted alert

    survivor = make_worker()
    assert await survivor.drain() == 0
    assert [row.status for row in await outbox_rows(settings.database_url)] == ["sending"] * 2
    clock.advance(minutes=6)
    assert await survivor.drain() == 2
    for row in await outbox_rows(settings.database_url):
        assert row.status == "sent" and row.attempts == 2 and row.lease_expires_at is None
    assert len(smtp.inbox.messages) == 2


# SQLite has one writer: concurrent workers are a PostgreSQL deployment.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_workers_deliver_500_messages_exactly_once(
    database_url: str, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    database = Database(settings)
    try:

        def queue_500(session: Session) -> None:
            for number in range(500):
                email = Email(
                    kind="test",
                    to=f"r{number}@example.org",
                    recipient=f"r{number}@example.org",
                    rendered=Rendered(subject=f"Message {number}", text="text", html="<p>html</p>"),
                )
                outbox.enqueue(
                    session=session, email=email, lead_id=None, settings=settings, now=Clock()()
                )

        await database.write(queue_500)
    finally:
        await database.dispose()

    first, second = make_worker(), make_worker()
    counts = await asyncio.gather(first.drain(), second.drain())
    assert sum(counts) == 500 and all(counts)  # both took part
    received = smtp.inbox.messages
    assert len(received) == 500
    assert len({m.message["Message-ID"] for m in received}) == 500
    assert {row.status for row in await outbox_rows(database_url)} == {"sent"}


async def test_stop_finishes_the_message_in_flight_and_releases_the_rest(
    database_url: str, start_smtp: StartSmtp, make_worker: MakeWorker
) -> None:
    server = start_smtp(Inbox(data_delay=0.3))
    settings = mail_settings(database_url, server, default_facilitator_email="desk@f.example")
    async with AsyncTestClient(app=create_app(settings)) as client:
        await submit(client)
        await submit(client, email="second@example.org")
    worker = make_worker(settings)
    worker.start()
    await server.inbox.wait_for(1)
    await worker.stop()

    rows = await outbox_rows(database_url)
    assert len(rows) == 4 and "sending" not in {row.status for row in rows}
    sent = [row for row in rows if row.status == "sent"]
    assert 1 <= len(sent) == len(server.inbox.messages) < 4
    for row in rows:
        if row.status == "pending":
            assert row.attempts == 0 and row.lease_expires_at is None
    await make_worker(settings).drain()  # another worker picks up the rest at once
    assert len(server.inbox.messages) == 4


async def test_retry_now_sends_a_dead_email_again(
    database_url: str, start_smtp: StartSmtp, make_worker: MakeWorker
) -> None:
    refusing = {PATIENT: "550 5.2.1 Mailbox disabled"}
    server = start_smtp(Inbox(refuse=lambda a: refusing.get(a)))
    settings = mail_settings(database_url, server, alert_email=None)
    async with AsyncTestClient(app=create_app(settings)) as client:
        await submit(client)
    worker = make_worker(settings)
    await worker.drain()
    (row,) = await outbox_rows(database_url)
    assert row.status == "dead"

    refusing.clear()  # the patient's mailbox works again; a coordinator clicks "retry"
    database = Database(settings)
    try:
        retry = {"outbox_id": row.id, "actor": "coco@example.org", "now": Clock()()}
        await database.write(retry_email, **retry)
        with pytest.raises(Refused):
            await database.write(retry_email, **retry)
        assert await worker.drain() == 1
        async with database.session() as session:
            kinds = list(await session.scalars(select(LeadEvent.kind).order_by(LeadEvent.id)))
    finally:
        await database.dispose()
    assert [r.status for r in await outbox_rows(database_url)] == ["sent"]
    assert len(server.inbox.messages) == 1
    assert kinds[-3:] == ["email_failed", "email_retry", "email_sent"]


async def test_the_submit_answers_before_a_slow_mail_server_receives_anything(
    database_url: str, start_smtp: StartSmtp
) -> None:
    server = start_smtp(Inbox(data_delay=2))
    settings = mail_settings(
        database_url, server, mailer_enabled=True, alert_email=None, smtp_timeout=10
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        await submit(client)
        answered = time.monotonic()
        assert server.inbox.messages == []
        await server.inbox.wait_for(1)
    (received,) = server.inbox.messages  # the app stopped before the second
    assert answered < received.at


async def test_the_worker_command_sends_and_stops_on_sigterm(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer
) -> None:
    await submit(client)  # this app does not send: the standalone worker will
    env = {key: value for key, value in os.environ.items() if not key.startswith("QUOTE_")} | {
        "QUOTE_ENV": "test",
        "QUOTE_DATABASE_URL": settings.database_url,
        "QUOTE_SMTP_HOST": "127.0.0.1",
        "QUOTE_SMTP_PORT": str(smtp.port),
        "QUOTE_MAIL_POLL_SECONDS": "0.2",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service", "worker",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await smtp.inbox.wait_for(2, within=15)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 0
    assert b"mail worker stopped" in output
    assert {row.status for row in await outbox_rows(settings.database_url)} == {"sent"}


async def test_a_row_that_cannot_be_composed_is_dead_and_blocks_nothing(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    await submit(client)
    engine = create_async_engine(settings.database_url)
    async with engine.begin() as conn:  # a row edited by hand, with a line break in a header
        await conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.kind == "patient_confirmation")
            .values(subject="Hello\r\nBcc: evil@attacker.example")
        )
    await engine.dispose()
    await make_worker().drain()
    rows = {row.kind: row for row in await outbox_rows(settings.database_url)}
    assert rows["patient_confirmation"].status == "dead"
    assert "unsendable" in (rows["patient_confirmation"].last_error or "")
    assert rows["alert_unrouted"].status == "sent"
    assert all("evil@attacker.example" not in m.rcpt_tos for m in smtp.inbox.messages)


async def test_an_email_whose_workers_keep_dying_is_given_up(
    client: AsyncTestClient, smtp: SmtpServer, make_worker: MakeWorker, database_url: str
) -> None:
    settings = mail_settings(database_url, smtp, mail_max_attempts=1, alert_email=None)
    await submit(client)
    database = Database(settings)
    try:  # the one allowed attempt: claimed, then the worker dies
        await database.write(outbox.claim, now=Clock()(), limit=10, lease=timedelta(0))
    finally:
        await database.dispose()
    await make_worker(settings).drain()
    rows = await outbox_rows(database_url)
    assert len(rows) == 2 and {row.status for row in rows} == {"dead"}
    assert {row.last_error for row in rows} == {"no outcome after every attempt"}
    assert smtp.inbox.messages == []


async def test_a_submit_wakes_the_in_process_worker(database_url: str, smtp: SmtpServer) -> None:
    # Polling once a minute: only the wake after the commit can send it this soon.
    settings = mail_settings(database_url, smtp, mailer_enabled=True, mail_poll_seconds=60)
    async with AsyncTestClient(app=create_app(settings)) as client:
        await asyncio.sleep(0.2)  # the worker's first look found nothing and it now waits
        await submit(client)
        await smtp.inbox.wait_for(2, within=5)


def test_the_retry_schedule_with_jitter_and_its_last_step_repeating() -> None:
    settings = make_settings("sqlite+aiosqlite:///unused.db", mail_retry_schedule="1m,1h")
    rng = random.Random(7)
    first = [retry_delay(attempt=1, settings=settings, rng=rng) for _ in range(200)]
    later = [retry_delay(attempt=n, settings=settings, rng=rng) for n in (2, 3, 9)]
    assert all(timedelta(seconds=48) <= d <= timedelta(seconds=72) for d in first)
    assert len(set(first)) > 100  # spread out, not all at the same second
    assert all(timedelta(minutes=48) <= d <= timedelta(minutes=72) for d in later)


def queue_test_emails(session: Session, settings: Settings, count: int) -> None:
    """`count` plain emails, each to its own recipient, queued as the app queues them."""
    for number in range(count):
        email = Email(
            kind="test",
            to=f"r{number}@example.org",
            recipient=f"r{number}@example.org",
            rendered=Rendered(subject=f"Message {number}", text="text", html="<p>html</p>"),
        )
        outbox.enqueue(session=session, email=email, lead_id=None, settings=settings, now=Clock()())


@dataclass
class CountingInbox(Inbox):
    """Also notes each SMTP connection (the client's address and port) a message came over."""

    connections: set[tuple[str, int]] = field(default_factory=set)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.connections.add(session.peer)
        return await super().handle_DATA(server, session, envelope)


async def test_a_backlog_leaves_at_once_over_one_connection(
    database_url: str, start_smtp: StartSmtp, make_worker: MakeWorker
) -> None:
    inbox = CountingInbox()
    server = start_smtp(inbox)
    # Polling once a minute, 20 per batch: only claiming again after a full batch sends 100
    # emails this soon.
    settings = mail_settings(database_url, server, mail_poll_seconds=60, mail_batch_size=20)
    database = Database(settings)
    try:
        await database.write(lambda session: queue_test_emails(session, settings, 100))
    finally:
        await database.dispose()

    worker = make_worker(settings)
    worker.start()
    try:
        await inbox.wait_for(100, within=10)
    finally:
        await worker.stop()
    assert len(inbox.connections) == 1
    assert {row.status for row in await outbox_rows(database_url)} == {"sent"}


@dataclass
class LimitingInbox(CountingInbox):
    """Takes three messages per connection; a fourth MAIL gets 421 (the client hangs up), as
    servers that limit messages per connection answer."""

    per_connection: dict[tuple[str, int], int] = field(default_factory=dict)

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        count = self.per_connection[session.peer] = self.per_connection.get(session.peer, 0) + 1
        if count > 3:
            return "421 4.7.0 Too many messages on this connection, closing"
        envelope.mail_from = address
        return "250 OK"


async def test_after_the_server_hangs_up_the_next_email_goes_over_a_new_connection(
    database_url: str, start_smtp: StartSmtp, make_worker: MakeWorker
) -> None:
    inbox = LimitingInbox()
    settings = mail_settings(database_url, start_smtp(inbox), mail_batch_size=20)
    database = Database(settings)
    try:
        await database.write(lambda session: queue_test_emails(session, settings, 10))
    finally:
        await database.dispose()

    assert await make_worker(settings).drain() == 10  # one batch
    rows = await outbox_rows(database_url)
    assert [(row.status, row.last_error_code) for row in rows] == [
        *[("sent", None)] * 3,
        ("retry", 421),
        *[("sent", None)] * 3,
        ("retry", 421),
        *[("sent", None)] * 2,
    ]
    assert len(inbox.messages) == 8 and len(inbox.connections) == 3


# PostgreSQL has no queue of writes (each has its own connection); SQLite's single writer does.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_accepted_email_is_recorded_before_the_writes_already_waiting(
    database_url: str, start_smtp: StartSmtp, make_worker: MakeWorker
) -> None:
    """The time between the server's 250 and the commit of `sent` is when a crash sends an
    email twice: it is not spent waiting behind submits."""
    data_arrived, writes_queued = threading.Event(), threading.Event()

    @dataclass
    class HoldingInbox(Inbox):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            data_arrived.set()
            await asyncio.to_thread(writes_queued.wait, 10)  # the app is busy with submits now
            return await super().handle_DATA(server, session, envelope)

    settings = mail_settings(database_url, start_smtp(HoldingInbox()))
    worker = make_worker(settings)
    await worker.database.write(lambda session: queue_test_emails(session, settings, 1))
    draining = asyncio.create_task(worker.drain())
    assert await asyncio.to_thread(data_arrived.wait, 10)

    seen: list[str | None] = []

    def busy(session: Session) -> None:  # a write that takes a while, as a submit's can
        seen.append(session.scalar(select(OutboxMessage.status)))
        time.sleep(1.0)

    waiting = [asyncio.create_task(worker.database.write(busy)) for _ in range(3)]
    await asyncio.sleep(0.1)  # all three are queued, the first one running
    writes_queued.set()
    assert await draining == 1
    await asyncio.gather(*waiting)
    assert seen == ["sending", "sent", "sent"]


@dataclass
class DroppingInbox(CountingInbox):
    """Hangs up, without an answer, on the DATA of the `drop_at`-th message (once)."""

    drop_at: int = 4
    seen: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen += 1
        if self.seen == self.drop_at:
            server.transport.close()
            return "421 4.4.2 Connection dropped"  # never reaches the client
        return await super().handle_DATA(server, session, envelope)


async def test_a_connection_dropped_mid_batch_loses_and_duplicates_nothing(
    database_url: str, start_smtp: StartSmtp, make_worker: MakeWorker, clock: Clock
) -> None:
    inbox = DroppingInbox()
    settings = mail_settings(database_url, start_smtp(inbox), mail_batch_size=20)
    database = Database(settings)
    try:
        await database.write(lambda session: queue_test_emails(session, settings, 10))
    finally:
        await database.dispose()

    worker = make_worker(settings)
    assert await worker.drain() == 10
    rows = await outbox_rows(database_url)
    assert sorted(row.status for row in rows) == ["retry"] + ["sent"] * 9
    clock.advance(minutes=2)  # the dropped one is due again
    assert await worker.drain() == 1
    received = [m.message["Message-ID"] for m in inbox.messages]
    assert sorted(received) == sorted(row.message_id for row in rows)  # each exactly once
    assert {row.status for row in await outbox_rows(database_url)} == {"sent"}
    assert len(inbox.connections) >= 2  # the rest of the batch went over a new connection
