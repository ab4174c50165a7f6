"""The database goes away: the patient keeps their form and is asked to send it again in a
minute; API clients get 503 with Retry-After; the app recovers by itself."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.factories import quote_form
from tests.faults.conftest import (
    LaunchApp,
    Sink,
    TcpProxy,
    delivered_all,
    form_values,
    patient_data,
    stored,
    submit_api,
    wait_until,
)

SEND_AGAIN = "please send again in a minute"


def typed(n: int) -> dict[str, Any]:
    """A request with values that are easy to lose or garble on the way back into the page."""
    return patient_data(n) | {
        "full_name": "Zoë O'Brien-Van den Berghe",
        "travel_window": 'Spring 2027, "after Easter" <if possible>',
        "budget": "€ 20.000 & travel",
        "medical_summary": "Left side weakness.\nWalks with a cane & needs help <on stairs>.",
        "stroke_type": "hemorrhagic",
        "stroke_date": "2024-11",
        "patient_relation": "self",
        "contact_method": "phone",
        "language": "fr",
        "consent_marketing": True,
    }


def assert_form_kept(page: httpx.Response, sent: dict[str, str]) -> dict[str, str]:
    """The page is the form again with every value as typed (what a browser would send back
    now), and the plain request to send it again; the form it holds is returned."""
    assert SEND_AGAIN in page.text.lower()
    again = form_values(page.text)
    for name, value in sent.items():
        assert again.get(name) == value, (name, again.get(name), value)
    return again


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_postgresql_refusing_connections_keeps_the_form_and_recovers_without_a_restart(
    database_url: str,
    postgres_proxy: tuple[TcpProxy, str],
    sink: Sink,
    launch_app: LaunchApp,
) -> None:
    proxy, url_through_proxy = postgres_proxy
    app = launch_app(url_through_proxy, sink.port, mail_poll_seconds=0.5)
    await app.wait_ready()
    async with httpx.AsyncClient(base_url=app.base_url, timeout=30) as client:
        before = await submit_api(client, patient_data(1))  # the pool holds live connections
        page = await client.get("/")
        form = {**form_values(page.text), **quote_form(**typed(2))}

        proxy.refuse()  # the database restarts: open connections cut, new ones refused
        answered = await client.post("/quote", data=form)
        assert answered.status_code == 503
        assert "Retry-After" in answered.headers
        again = assert_form_kept(answered, form)
        assert again["submission_id"] == form["submission_id"]  # sending again is the same request

        api = await client.post("/api/v1/quotes", json=patient_data(3))
        assert api.status_code == 503
        assert int(api.headers["Retry-After"]) > 0
        assert "again" in api.json()["detail"].lower()
        thanks = await client.get(f"/quote/thanks/{before}", headers={"Accept": "text/html"})
        assert thanks.status_code == 503
        assert (await client.get("/")).status_code == 200  # the article and form still load
        assert (await client.get("/readyz")).status_code == 503
        await asyncio.sleep(2)  # the mail worker meets the outage too

        proxy.accept()  # the database is back; the app is not restarted
        resent = await client.post("/quote", data=again)
        assert resent.status_code == 303, resent.status_code
        assert (await client.post("/quote", data=again)).status_code == 303  # a double click
        later = await submit_api(client, patient_data(4))
        assert (await client.get("/readyz")).status_code == 200

    db = await stored(database_url)
    patient = [lead for lead in db.leads.values() if lead.email == form["email"]]
    assert len(patient) == 1  # sent twice after the outage, stored once
    (lead,) = patient
    assert (lead.full_name, lead.medical_summary, lead.budget) == (
        form["full_name"],
        form["medical_summary"],
        form["budget"],
    )
    assert {before, later} <= set(db.leads)

    async def all_delivered() -> bool:
        nonlocal db
        db = await stored(database_url)
        return delivered_all(sink, db)

    async def missing() -> str:
        return f"{len(db.outbox)} emails queued, {len(sink.deliveries)} delivered"

    await wait_until(all_delivered, within=20, what=missing)  # the worker recovered too
    log = app.log_path.read_text()
    assert "Brien" not in log and form["email"] not in log  # no personal data in the logs


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_sqlite_database_locked_too_long_keeps_the_form_and_recovers(
    database_url: str, sink: Sink, launch_app: LaunchApp
) -> None:
    # The worker's own writes would queue behind the lock too and make the wait longer.
    app = launch_app(database_url, sink.port, mailer_enabled="false")
    await app.wait_ready()
    async with httpx.AsyncClient(base_url=app.base_url, timeout=60) as client:
        page = await client.get("/")
        form = {**form_values(page.text), **quote_form(**typed(1))}

        # Another process holds the write lock past the app's busy timeout (10 s).
        path = make_url(database_url).database
        assert path
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            started = time.monotonic()
            answered = await client.post("/quote", data=form)
            waited = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        print(f"\nthe locked write was answered after {waited:.1f} s")
        assert answered.status_code == 503
        again = assert_form_kept(answered, form)

        resent = await client.post("/quote", data=again)
        assert resent.status_code == 303

    db = await stored(database_url)
    assert [lead.full_name for lead in db.leads.values()] == [form["full_name"]]
    log = app.log_path.read_text()
    assert "Brien" not in log and form["email"] not in log  # no personal data in the logs
