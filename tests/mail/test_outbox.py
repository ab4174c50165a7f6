"""Cancelled emails: never claimed, never retried; one cancelled mid-send is recorded as what
really happened to it; `forget` keeps nothing an email said."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import select

from service.app import create_app
from service.db import Database
from service.mail import outbox
from service.mail.outbox import Failure
from service.models import OutboxMessage
from service.settings import Settings
from tests.factories import outbox_rows, quote_data, stored_leads
from tests.smtp import Clock, MakeWorker, SmtpServer


async def _submit(settings: Settings) -> None:
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.post("/api/v1/quotes", json=quote_data())
        assert response.status_code == 201


async def test_cancelled_emails_are_never_sent(
    settings: Settings, smtp: SmtpServer, make_worker: MakeWorker, clock: Clock
) -> None:
    await _submit(settings.model_copy(update={"alert_email": None}))
    (lead,) = await stored_leads(settings.database_url)
    database = Database(settings)
    try:
        cancelled = await database.write(outbox.cancel_unsent, lead_id=lead.id, now=clock())
    finally:
        await database.dispose()
    assert cancelled == 1  # the patient's confirmation (no facilitator, no alert address)

    clock.advance(days=3)
    assert await make_worker().drain() == 0
    assert smtp.inbox.messages == []
    assert [row.status for row in await outbox_rows(settings.database_url)] == ["cancelled"]


async def test_an_email_cancelled_while_being_sent_is_recorded_as_it_ended(
    settings: Settings, clock: Clock
) -> None:
    await _submit(settings)  # unrouted: the operator's alert and the patient's confirmation
    (lead,) = await stored_leads(settings.database_url)
    database = Database(settings)
    try:
        delivered, failed = await database.write(
            outbox.claim, now=clock(), limit=10, lease=timedelta(minutes=5)
        )
        await database.write(outbox.cancel_unsent, lead_id=lead.id, now=clock())
        # The delivery happened: the row says sent. The failure is not retried.
        assert await database.write(
            lambda session: outbox.mark_sent(session=session, message=delivered, now=clock())
        )
        failure = Failure(code=451, text="try later")
        assert not await database.write(
            lambda session: outbox.mark_retry(
                session=session,
                message=failed,
                failure=failure,
                next_attempt_at=clock() + timedelta(minutes=1),
                now=clock(),
            )
        )
    finally:
        await database.dispose()
    rows = {row.id: row.status for row in await outbox_rows(settings.database_url)}
    assert rows == {delivered.id: "sent", failed.id: "cancelled"}


async def test_forget_keeps_the_envelope_and_nothing_the_email_said(
    settings: Settings, clock: Clock
) -> None:
    await _submit(settings)
    (lead,) = await stored_leads(settings.database_url)
    database = Database(settings)

    def forget_all(session, *, now):  # type: ignore[no-untyped-def]
        messages = list(session.scalars(select(OutboxMessage)))
        outbox.forget(
            session, messages=messages, recipients={lead.email.lower()}, marker="[erased]", now=now
        )

    try:
        await database.write(forget_all, now=clock())
    finally:
        await database.dispose()
    alert, confirmation = await outbox_rows(settings.database_url)
    assert (confirmation.subject, confirmation.text, confirmation.html) == ("[erased]",) * 3
    assert confirmation.recipient == "[erased]"
    assert alert.recipient == settings.alert_email  # not the patient's address: kept
    for row in (alert, confirmation):
        assert set(row.headers) == {"From", "Date", "Message-ID"}
        assert row.message_id == row.headers["Message-ID"]
