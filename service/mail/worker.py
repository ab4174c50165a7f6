"""The mail worker: claim due outbox rows, send them over one SMTP connection, record each
outcome, and apply the retry policy. Runs inside the web process or as `quote-desk worker`.

It knows nothing of what an email is about: `MailEvents`, given by whoever builds it, records
the rest of the story (a lead's timeline) in the same transaction as each outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from service.clock import Clock, utc_now
from service.db import Database
from service.mail import outbox
from service.mail.alerts import queue_dead_email_alert
from service.mail.outbox import Failure, OutboxStatus
from service.mail.render import address_of, compose
from service.mail.sender import PermanentSendError, SendError, SmtpSender
from service.models import OutboxMessage
from service.settings import Settings

logger = logging.getLogger("service.mail")

STOP_GRACE_SECONDS = 10.0


class MailEvents(Protocol):
    """What the rest of the service records, in the same write, when an email's fate is."""

    def sent(self, session: Session, *, message: OutboxMessage, now: datetime) -> None: ...

    def failed(
        self,
        session: Session,
        *,
        message: OutboxMessage,
        failure: Failure,
        outcome: OutboxStatus,
        next_attempt_at: datetime | None,
        now: datetime,
    ) -> None: ...

    def about(self, session: Session, *, message: OutboxMessage) -> tuple[str | None, str | None]:
        """What the email is about and where to see it, for an operator alert."""
        ...


class NoEvents:
    """Records nothing beyond the outbox row itself."""

    def sent(self, session: Session, *, message: OutboxMessage, now: datetime) -> None:
        return None

    def failed(
        self,
        session: Session,
        *,
        message: OutboxMessage,
        failure: Failure,
        outcome: OutboxStatus,
        next_attempt_at: datetime | None,
        now: datetime,
    ) -> None:
        return None

    def about(self, session: Session, *, message: OutboxMessage) -> tuple[str | None, str | None]:
        return None, None


def record_sent(
    session: Session, *, message: OutboxMessage, events: MailEvents, now: datetime
) -> bool:
    if not outbox.mark_sent(session=session, message=message, now=now):
        return False
    events.sent(session, message=message, now=now)
    return True


def record_retry(
    session: Session,
    *,
    message: OutboxMessage,
    failure: Failure,
    next_attempt_at: datetime,
    events: MailEvents,
    now: datetime,
) -> None:
    settled = outbox.mark_retry(
        session=session, message=message, failure=failure, next_attempt_at=next_attempt_at, now=now
    )
    if settled:
        events.failed(
            session,
            message=message,
            failure=failure,
            outcome=OutboxStatus.retry,
            next_attempt_at=next_attempt_at,
            now=now,
        )


def record_dead(
    session: Session,
    *,
    message: OutboxMessage,
    failure: Failure,
    events: MailEvents,
    settings: Settings,
    now: datetime,
) -> None:
    """Give up on the email, and queue one alert to ALERT_EMAIL about it."""
    if not outbox.mark_dead(session=session, message=message, failure=failure, now=now):
        return
    events.failed(
        session,
        message=message,
        failure=failure,
        outcome=OutboxStatus.dead,
        next_attempt_at=None,
        now=now,
    )
    about, link = events.about(session, message=message)
    queue_dead_email_alert(
        session,
        message=message,
        failure=failure,
        about=about,
        link=link,
        settings=settings,
        now=now,
    )


def release_all(session: Session, *, messages: list[OutboxMessage], now: datetime) -> None:
    for message in messages:
        outbox.release(session=session, message=message, now=now)


def retry_delay(*, attempt: int, settings: Settings, rng: random.Random) -> timedelta:
    """The delay after failed attempt number `attempt` (1-based), with jitter so that emails
    that failed together (a mail server outage) do not all come back in the same second."""
    delays = settings.mail_retry_delays
    base = delays[min(attempt, len(delays)) - 1]
    jitter = settings.mail_retry_jitter
    return base * rng.uniform(1 - jitter, 1 + jitter)


class Worker:
    """One worker loop. `wake()` after a commit sends queued mail at once; otherwise it polls
    every `mail_poll_seconds` for rows queued by other processes or due for a retry."""

    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        events: MailEvents | None = None,
        sender: SmtpSender | None = None,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.events: MailEvents = events or NoEvents()
        self.sender = sender or (SmtpSender.from_settings(settings) if settings.smtp_host else None)
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        # Rows this worker has claimed and not yet recorded: released if it has to stop.
        self._held: dict[int, OutboxMessage] = {}
        # Mail queued by this process is sent at once, not at the next poll.
        database.on_commit(outbox.QUEUED, self.wake)

    def wake(self) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        if self.sender is None:
            logger.warning(
                "mail worker not started: QUOTE_SMTP_HOST is not set; emails stay queued"
            )
            return
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="mail-worker")

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Finish the message being sent, release the rest of the batch, and end the loop;
        past `grace` seconds, cancel it (what it holds is still released)."""
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=grace)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def run(self) -> None:
        logger.info("mail worker started")
        while not self._stopping:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:
                # The database or the network failed outside a send; try again on the next turn.
                logger.exception("mail worker: a batch failed")
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.mail_poll_seconds)
        logger.info("mail worker stopped")

    async def drain(self) -> int:
        """Send everything due now, batch after batch; the number of rows attempted."""
        total = 0
        while processed := await self.run_once():
            total += processed
        return total

    async def run_once(self) -> int:
        """Claim one batch of due rows and try each once; the number claimed."""
        if self.sender is None:
            return 0
        lease = timedelta(seconds=self.settings.mail_lease_seconds)
        now, limit = self.clock(), self.settings.mail_batch_size
        batch = await self.database.write(outbox.claim, now=now, limit=limit, lease=lease)
        if not batch:
            return 0
        self._held = {message.id: message for message in batch}
        try:
            await self._send(batch, self.sender)
        finally:
            await self._release_held()
        return len(batch)

    async def _send(self, batch: list[OutboxMessage], sender: SmtpSender) -> None:
        envelope_from = address_of(self.settings.mail_from)
        try:
            async with sender.connect() as connection:
                for message in batch:
                    if self._stopping:
                        return  # the rest of the batch is released
                    if message.lease_expires_at and self.clock() >= message.lease_expires_at:
                        return  # another worker may hold these rows now; don't send twice
                    if message.attempts > self.settings.mail_max_attempts:
                        # Claimed again and again without an outcome: its sends kill workers.
                        await self._failed(
                            message, PermanentSendError(None, "no outcome after every attempt")
                        )
                        continue
                    try:
                        email = compose(
                            subject=message.subject,
                            text=message.text,
                            html=message.html,
                            headers=message.headers,
                        )
                    except ValueError as exc:
                        # A row that cannot become a message (a header with a line break put
                        # in by hand) never will: dead, rather than blocking its batch.
                        await self._failed(message, PermanentSendError(None, f"unsendable: {exc}"))
                        continue
                    try:
                        await connection.send(
                            email, sender=envelope_from, recipients=[message.recipient]
                        )
                    except SendError as exc:
                        await self._failed(message, exc)
                    else:
                        await self._sent(message)
        except SendError as exc:
            # No connection (refused, timed out, TLS or login failed): an attempt for all.
            logger.warning("mail worker: cannot connect to the mail server (%s)", exc.code)
            for message in list(self._held.values()):
                await self._failed(message, exc)

    async def _sent(self, message: OutboxMessage) -> None:
        now = self.clock()
        recorded = await self.database.write(
            record_sent, message=message, events=self.events, now=now
        )
        self._held.pop(message.id, None)
        logger.info(
            "email sent: outbox #%d %s attempt %d%s",
            message.id,
            message.kind,
            message.attempts,
            "" if recorded else " (lease lost)",
        )

    async def _failed(self, message: OutboxMessage, error: SendError) -> None:
        now = self.clock()
        failure = Failure(code=error.code, text=error.text[:1000])
        permanent = isinstance(error, PermanentSendError)
        exhausted = message.attempts >= self.settings.mail_max_attempts
        if permanent or exhausted:
            outcome = OutboxStatus.dead
            await self.database.write(
                record_dead,
                message=message,
                failure=failure,
                events=self.events,
                settings=self.settings,
                now=now,
            )
        else:
            outcome = OutboxStatus.retry
            delay = retry_delay(attempt=message.attempts, settings=self.settings, rng=self.rng)
            await self.database.write(
                record_retry,
                message=message,
                failure=failure,
                next_attempt_at=now + delay,
                events=self.events,
                now=now,
            )
        self._held.pop(message.id, None)
        # Codes and ids only: the server's text can quote the recipient's address.
        logger.warning(
            "email %s: outbox #%d %s attempt %d, code %s",
            outcome,
            message.id,
            message.kind,
            message.attempts,
            error.code,
        )

    async def _release_held(self) -> None:
        if not self._held:
            return
        held, self._held = list(self._held.values()), {}
        await self.database.write(release_all, messages=held, now=self.clock())
        logger.info("mail worker released %d unsent email(s)", len(held))
