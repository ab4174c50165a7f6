"""kill -9 of the app under a submit load: nothing acknowledged is lost, every email leaves."""

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

KILLS = 3


async def test_kill_9_three_times_under_load_loses_no_lead_and_no_email(
    database_url: str, sink: Sink, launch_app: LaunchApp
) -> None:
    app = launch_app(
        database_url,
        sink.port,
        # Emails a killed process had claimed come back when its lease runs out: 3 s here
        # instead of 5 minutes, so the test need not wait for them.
        mail_lease_seconds=3,
        mail_poll_seconds=0.5,
    )
    await app.wait_ready()
    sent, stop = Sent(), asyncio.Event()
    in_flight = []  # emails claimed by the killed process, at each kill
    async with running(load(app.base_url, sent, stop, clients=4)) as patients:
        for _ in range(KILLS):
            await asyncio.sleep(1.0)  # submits and sends are under way
            app.kill()
            outbox = (await stored(database_url)).outbox
            in_flight.append(sum(message.status == "sending" for message in outbox))
            app.start()  # patients find the door closed meanwhile
            await app.wait_ready()
        await asyncio.sleep(1.0)
        stop.set()
        await patients

    assert len(sent.acknowledged) > 20, "the load did not get going"
    db = await stored(database_url)
    assert_acknowledged_leads_stored(sent, db)
    assert_two_emails_per_lead(db)

    async def all_delivered() -> bool:
        nonlocal db
        db = await stored(database_url)
        return delivered_all(sink, db)

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
    duplicates = {message_id: n for message_id, n in counts.items() if n > 1}
    # At least once is the promise: an email the server accepted just before the kill, whose
    # "sent" was not yet committed, is sent again (with the same Message-ID). Counted, shown.
    print(
        f"\n{len(sent.acknowledged)} leads acknowledged, {sent.unanswered} requests unanswered "
        f"during {KILLS} kills (emails in flight at each: {in_flight}); {len(db.leads)} leads "
        f"stored; {len(db.outbox)} emails, "
        f"{sum(counts.values())} deliveries, {len(duplicates)} delivered twice or more "
        f"({sum(duplicates.values()) - len(duplicates)} extra); all delivered {drained:.1f} s "
        "after the load stopped"
    )
