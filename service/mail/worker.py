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
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from service.clock import Clock, utc_now
from service.db import Database, DatabaseUnavailable
from service.mail import outbox
from service.mail.alerts import queue_dead_email_alert
from service.mail.heartbeat import Heart, beat
from service.mail.outbox import Failure, OutboxStatus
from service.mail.render import address_of, compose
from service.mail.sender import Connection, PermanentSendError, SendError, SmtpSender
from service.models import OutboxMessage
from service.settings import Settings

logger = logging.getLogger("service.mail")

STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one attempt: sent, retry (due again at `next_attempt_at`) or dead."""

    status: OutboxStatus
    failure: Failure | None = None
    next_attempt_at: datetime | None = None


class MailEvents:
    """What the rest of the service records, in the same write, when an email's fate is
    recorded. This one records nothing beyond the outbox row; the leads side says more."""

    def settled(
        self, session: Session, *, message: OutboxMessage, outcome: Outcome, now: datetime
    ) -> None:
        return None

    def about(self, session: Session, *, message: OutboxMessage) -> tuple[str | None, str | None]:
        """What the email is about and where to see it, for an operator alert."""
        return None, None

    def references(self, session: Session, *, messages: list[OutboxMessage]) -> dict[int, str]:
        """What each email is about (by outbox id), for the log line of its attempt."""
        return {}


def record_outcome(
    session: Session,
    *,
    message: OutboxMessage,
    outcome: Outcome,
    events: MailEvents,
    settings: Settings,
    now: datetime,
    sent: bool | None = None,
) -> bool:
    """Record an attempt on a row this worker still holds (False, writing nothing, when its
    lease was lost); a dead email also queues one alert to ALERT_EMAIL. `sent`: whether a
    delivery was already marked (`outbox.mark_all_sent`, for many rows at once)."""
    failure = outcome.failure or Failure(code=None, text="")
    if outcome.status is OutboxStatus.sent:
        settled = (
            outbox.mark_sent(session=session, message=message, now=now) if sent is None else sent
        )
    elif outcome.status is OutboxStatus.retry and outcome.next_attempt_at is not None:
        settled = outbox.mark_retry(
            session=session,
            message=message,
            failure=failure,
            next_attempt_at=outcome.next_attempt_at,
            now=now,
        )
    else:
        settled = outbox.mark_dead(session=session, message=message, failure=failure, now=now)
    if not settled:
        return False
    events.settled(session, message=message, outcome=outcome, now=now)
    if outcome.status is OutboxStatus.dead:
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
    return True


@dataclass(frozen=True, slots=True)
class Attempt:
    """One send attempt waiting to be recorded, with the SMTP code for its log line."""

    message: OutboxMessage
    outcome: Outcome
    code: int | None


def record_attempts(
    session: Session,
    *,
    attempts: list[Attempt],
    events: MailEvents,
    settings: Settings,
    now: datetime,
) -> tuple[list[bool], dict[int, str]]:
    """Record many attempts in one transaction (the deliveries in one UPDATE): whether each was
    recorded, and what the emails are about (by outbox id) for their log lines."""
    delivered = [a.message for a in attempts if a.outcome.status is OutboxStatus.sent]
    marked = outbox.mark_all_sent(session=session, messages=delivered, now=now)
    recorded = [
        record_outcome(
            session,
            message=attempt.message,
            outcome=attempt.outcome,
            events=events,
            settings=settings,
            now=now,
            sent=attempt.message.id in marked,
        )
        for attempt in attempts
    ]
    messages = [attempt.message for attempt in attempts]
    return recorded, events.references(session, messages=messages)


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
        self.events = events or MailEvents()
        self.sender = sender or (SmtpSender.from_settings(settings) if settings.smtp_host else None)
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        # Rows this worker has claimed and not yet tried: released if it has to stop.
        self._held: dict[int, OutboxMessage] = {}
        # Attempts made and not yet recorded, and the task writing them (one write for all
        # those that came in while the previous write ran; the sending goes on meanwhile).
        self._attempts: list[Attempt] = []
        self._recorder: asyncio.Task[None] | None = None
        # Its sign of life and attempts by outcome, written to the database as it polls.
        self.heart = Heart(started_at=clock())
        self._beaten_at: float | None = None
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
                await self.drain()
            except DatabaseUnavailable as exc:
                logger.warning("mail worker: database unavailable (%s); trying again soon", exc)
            except Exception:
                # The database or the network failed outside a send; try again on the next turn.
                logger.exception("mail worker: a batch failed")
            await self._beat()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.mail_poll_seconds)
        await self._beat(final=True)
        logger.info("mail worker stopped")

    async def _beat(self, *, final: bool = False) -> None:
        """Say the worker is alive, at most once per poll interval (a busy worker is woken after
        every submit; one write per wake would cost SQLite's writer as much as a submit)."""
        now = time.monotonic()
        if (
            not final
            and self._beaten_at
            and now - self._beaten_at < self.settings.mail_poll_seconds
        ):
            return
        try:
            await self.database.write(beat, heart=self.heart, now=self.clock())
        except Exception as exc:
            # Not being able to say so does not stop the sending; /readyz will notice.
            logger.warning("mail worker: heartbeat not written (%s)", type(exc).__name__)
        else:
            self._beaten_at = now

    async def drain(self) -> int:
        """Send everything due now over one SMTP connection: claim a batch, send it, and claim
        the next at once while batches come back full; the number of rows attempted."""
        if self.sender is None:
            return 0
        total, limit = 0, self.settings.mail_batch_size
        async with _Smtp(self.sender) as smtp:
            try:
                while not self._stopping:
                    claimed, reachable = await self._run_batch(smtp)
                    total += claimed
                    await self._beat()  # a long backlog is no silence
                    # A partial batch: nothing else was due (a commit wakes the worker again).
                    # An unreachable server: the rest waits for the next turn.
                    if claimed < limit or not reachable:
                        break
            finally:
                await self._recorded()
        return total

    async def _run_batch(self, smtp: _Smtp) -> tuple[int, bool]:
        """Claim a batch and try each row once; (rows claimed, whether the server answered)."""
        lease = timedelta(seconds=self.settings.mail_lease_seconds)
        now, limit = self.clock(), self.settings.mail_batch_size
        batch = await self.database.write(outbox.claim, now=now, limit=limit, lease=lease)
        if not batch:
            return 0, True
        self._held = {message.id: message for message in batch}
        try:
            reachable = await self._send(batch, smtp)
        finally:
            # The rows not tried; those tried are recorded meanwhile, as the next batch is sent.
            await self._release_held()
        return len(batch), reachable

    async def _send(self, batch: list[OutboxMessage], smtp: _Smtp) -> bool:
        """Try each row of the batch once; False if the mail server could not be reached."""
        envelope_from = address_of(self.settings.mail_from)
        for message in batch:
            if self._recorder is not None and self._recorder.done():
                self._recorder.result()  # a write failed: stop here, as the database may be away
            if self._stopping:
                return True  # the rest of the batch is released
            if message.lease_expires_at and self.clock() >= message.lease_expires_at:
                return True  # another worker may hold these rows now; don't send twice
            if message.attempts > self.settings.mail_max_attempts:
                # Claimed again and again without an outcome: its sends kill workers.
                self._failed(message, PermanentSendError(None, "no outcome after every attempt"))
                continue
            try:
                email = compose(
                    subject=message.subject,
                    text=message.text,
                    html=message.html,
                    headers=message.headers,
                )
            except ValueError as exc:
                # A row that cannot become a message (a header with a line break put in by
                # hand) never will: dead, rather than blocking its batch.
                self._failed(message, PermanentSendError(None, f"unsendable: {exc}"))
                continue
            try:
                connection = await smtp.connection()
            except SendError as exc:
                # No connection (refused, timed out, TLS or login failed): an attempt for all.
                logger.warning("mail worker: cannot connect to the mail server (%s)", exc.code)
                for held in list(self._held.values()):
                    self._failed(held, exc)
                return False
            try:
                await connection.send(email, sender=envelope_from, recipients=[message.recipient])
            except SendError as exc:
                self._failed(message, exc)
            else:
                self._sent(message)
        return True

    def _sent(self, message: OutboxMessage) -> None:
        self._attempted(Attempt(message, Outcome(OutboxStatus.sent), code=250))

    def _failed(self, message: OutboxMessage, error: SendError) -> None:
        failure = Failure(code=error.code, text=error.text[:1000])
        permanent = isinstance(error, PermanentSendError)
        if permanent or message.attempts >= self.settings.mail_max_attempts:
            outcome = Outcome(OutboxStatus.dead, failure)
        else:
            delay = retry_delay(attempt=message.attempts, settings=self.settings, rng=self.rng)
            outcome = Outcome(OutboxStatus.retry, failure, next_attempt_at=self.clock() + delay)
        self._attempted(Attempt(message, outcome, code=error.code))

    def _attempted(self, attempt: Attempt) -> None:
        """Have `attempt` recorded as soon as the write before it (if any) has committed."""
        self._held.pop(attempt.message.id, None)  # tried: never handed back as untried
        self._attempts.append(attempt)
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._record_attempts(), name="mail-record")

    async def _record_attempts(self) -> None:
        while self._attempts:
            attempts, self._attempts = self._attempts, []
            await self._record(attempts)

    async def _recorded(self) -> None:
        """Wait until every attempt made is recorded; raise what stopped a write."""
        recorder, self._recorder = self._recorder, None
        try:
            if recorder is not None:
                await recorder
        finally:
            # Not recorded (the write failed): their leases run out and they are sent again.
            self._attempts = []

    async def _record(self, attempts: list[Attempt]) -> None:
        # Between the server's 250 and the commit of `sent`, a crash means the email goes out
        # again: that write goes before any submit waiting for SQLite's writer.
        delivered = any(attempt.outcome.status is OutboxStatus.sent for attempt in attempts)
        write = self.database.write_first if delivered else self.database.write
        recorded, about = await write(
            record_attempts,
            attempts=attempts,
            events=self.events,
            settings=self.settings,
            now=self.clock(),
        )
        for attempt, was_recorded in zip(attempts, recorded, strict=True):
            self.heart.count(attempt.outcome.status)
            _log_attempt(attempt, about=about.get(attempt.message.id), recorded=was_recorded)

    async def _release_held(self) -> None:
        if not self._held:
            return
        held, self._held = list(self._held.values()), {}
        await self.database.write(release_all, messages=held, now=self.clock())
        logger.info("mail worker released %d unsent email(s)", len(held))


class _Smtp:
    """The SMTP connection of one drain: opened when the first message needs it, opened again
    when the server dropped it between messages, closed when the drain ends."""

    def __init__(self, sender: SmtpSender) -> None:
        self._sender = sender
        self._open: tuple[contextlib.AsyncExitStack, Connection] | None = None

    async def connection(self) -> Connection:
        """The open connection; a SendError if none can be opened."""
        if self._open is not None and self._open[1].connected:
            return self._open[1]
        await self.close()
        stack = contextlib.AsyncExitStack()
        connection = await stack.enter_async_context(self._sender.connect())
        self._open = (stack, connection)
        return connection

    async def close(self) -> None:
        if self._open is not None:
            stack, self._open = self._open[0], None
            await stack.aclose()

    async def __aenter__(self) -> _Smtp:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _log_attempt(attempt: Attempt, *, about: str | None, recorded: bool) -> None:
    """One line per send attempt: ids, kinds and codes, never an address (a server's text can
    quote the recipient's)."""
    message, outcome = attempt.message, attempt.outcome
    fields = {
        "outbox_id": message.id,
        "email_kind": message.kind,
        "lead": about,
        "attempt": message.attempts,
        "outcome": str(outcome.status),
        "smtp_code": attempt.code,
        "recorded": recorded,
    }
    if outcome.status is OutboxStatus.sent:
        logger.info(
            "email sent: outbox #%d %s attempt %d%s",
            message.id,
            message.kind,
            message.attempts,
            "" if recorded else " (lease lost)",
            extra=fields,
        )
    else:
        logger.warning(
            "email %s: outbox #%d %s attempt %d, code %s",
            outcome.status,
            message.id,
            message.kind,
            message.attempts,
            attempt.code,
            extra=fields,
        )
