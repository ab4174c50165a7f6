"""The mail server goes away during a submit load and comes back: every email is delivered,
none twice."""

from __future__ import annotations

import asyncio
import time

from tests.faults.conftest import (
    LaunchApp,
    Sent,
    Sink,
    assert_acknowledged_leads_stored,
    assert_two_emails_per_lead,
    delivered_all,
    load,
    running,
    stored,
    wait_until,
)

OUTAGE_SECONDS = 3.0


async def test_an_smtp_outage_under_load_delays_mail_and_loses_none(
    database_url: str, sink: Sink, launch_app: LaunchApp
) -> None:
    app = launch_app(
        database_url,
        sink.port,
        # A passing failure is retried a second later (instead of a minute), and an outage
        # this short never uses up an email's attempts.
        mail_retry_schedule="1s",
        mail_max_attempts=50,
        mail_poll_seconds=0.5,
    )
    await app.wait_ready()
    sent, stop = Sent(), asyncio.Event()
    async with running(load(app.base_url, sent, stop, clients=4)) as patients:
        await asyncio.sleep(1.0)
        sink.stop()  # connections refused from now on; queued emails wait
        during = len(sent.acknowledged)
        await asyncio.sleep(OUTAGE_SECONDS)
        during = len(sent.acknowledged) - during
        outage = await stored(database_url)
        failed = [m for m in outage.outbox if m.status == "retry"]
        sink.start()
        await asyncio.sleep(1.0)
        stop.set()
        await patients

    assert during > 0, "no lead was submitted during the outage"
    assert failed, "no email was tried during the outage"
    db = await stored(database_url)
    assert_acknowledged_leads_stored(sent, db)
    assert_two_emails_per_lead(db)

    async def all_delivered() -> bool:
        nonlocal db
        db = await stored(database_url)
        return delivered_all(sink, db) and {m.status for m in db.outbox} == {"sent"}

    async def missing() -> str:
        arrived = sink.counts()
        lost = [m for m in db.outbox if m.message_id not in arrived]
        return f"{len(lost)} of {len(db.outbox)} emails not delivered: " + ", ".join(
            f"#{m.id} {m.status}" for m in lost[:10]
        )

    stopped = time.monotonic()
    await wait_until(all_delivered, within=30, what=missing)
    drained = time.monotonic() - stopped
    counts = sink.counts()
    print(
        f"\n{len(sent.acknowledged)} leads ({during} during the {OUTAGE_SECONDS:.0f} s outage), "
        f"{len(db.outbox)} emails ({len(failed)} had failed during the outage), "
        f"{sum(counts.values())} deliveries; all delivered {drained:.1f} s after the load stopped"
    )
    twice = [message_id for message_id, n in counts.items() if n > 1]
    assert not twice, f"{len(twice)} email(s) delivered more than once"
    retried = {m.id for m in failed}
    assert all(m.attempts >= 2 for m in db.outbox if m.id in retried)
