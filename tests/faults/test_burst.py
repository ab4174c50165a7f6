"""A burst of submits: every email is handed to the mail server within seconds of its lead."""

from __future__ import annotations

import asyncio
import time

from tests.faults.conftest import (
    LaunchApp,
    Sent,
    Sink,
    assert_acknowledged_leads_stored,
    assert_two_emails_per_lead,
    load,
    stored,
    wait_until,
)

BURST = 300
# The README promises "within a second" on a quiet machine. Here the app, 10 HTTP clients, the
# SMTP sink and the database share two cores with whatever else CI runs, and while the burst
# lasts the worker shares the app's one event loop with the submits: a lead's emails can wait
# for the rest of the burst to be taken. So the bound is generous, 20 s or the burst's own
# length plus 10 s on a machine so loaded that the burst alone takes longer. What it catches
# is a backlog drained one batch per poll interval: the last email then leaves about two
# minutes after its lead.
MIN_BOUND_SECONDS, AFTER_BURST_SECONDS = 20.0, 10.0


async def test_a_burst_of_300_submits_has_every_email_out_within_seconds(
    database_url: str, sink: Sink, launch_app: LaunchApp
) -> None:
    # The default poll interval and batch size, as an operator runs it.
    app = launch_app(database_url, sink.port)
    await app.wait_ready()
    sent = Sent()
    started = time.monotonic()
    await load(app.base_url, sent, asyncio.Event(), clients=10, limit=BURST)
    submitted = time.monotonic() - started
    expected = 2 * len(sent.acknowledged)
    print(f"\n{len(sent.acknowledged)} leads submitted in {submitted:.1f} s", end="; ")

    async def all_handed_over() -> bool:
        return len(sink.deliveries) >= expected

    async def how_many() -> str:
        return f"{len(sink.deliveries)} of {expected} emails handed to SMTP"

    bound = max(MIN_BOUND_SECONDS, submitted + AFTER_BURST_SECONDS)
    await wait_until(all_handed_over, within=bound + 5, what=how_many)
    db = await stored(database_url)
    assert_acknowledged_leads_stored(sent, db)
    assert_two_emails_per_lead(db)
    queued_at = {m.message_id: m.created_at.timestamp() for m in db.outbox}
    first_arrival: dict[str, float] = {}
    for delivery in sink.deliveries:
        first_arrival.setdefault(delivery.message_id, delivery.at)
    lags = sorted(first_arrival[mid] - queued_at[mid] for mid in queued_at if mid in first_arrival)
    print(
        f"{len(lags)} of {len(queued_at)} emails handed to SMTP; lag from lead to SMTP: "
        f"median {lags[len(lags) // 2]:.2f} s, worst {lags[-1]:.2f} s (bound {bound:.0f} s)"
    )
    assert len(sent.acknowledged) == BURST and sent.unanswered == 0
    assert len(lags) == len(queued_at) == 2 * BURST
    assert lags[-1] <= bound
