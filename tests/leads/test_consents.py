"""The consent chain: every submit extends it, `quote-desk consent verify` finds the first record
changed behind the application's back, and simultaneous writers never fork it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner, Result
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from service.cli import main
from service.content.documents import legal_texts
from service.db import Database
from service.leads.consents import GENESIS, append, new_record
from service.models import Consent
from service.settings import Settings
from tests.factories import (
    fetch_all,
    insert,
    insert_complete_leads,
    lead_row,
    open_form,
    quote_form,
    submit_form,
)


async def verify(settings: Settings, *args: str) -> Result:
    # The command runs its own event loop: give it a thread, as a shell would a process.
    return await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["consent", "verify", *args],
        env={"QUOTE_DATABASE_URL": settings.database_url, "QUOTE_ENV": "test"},
    )


async def chain(settings: Settings) -> list[Consent]:
    return sorted(await fetch_all(settings.database_url, Consent), key=lambda c: c.id)


async def execute(settings: Settings, statement: Any) -> None:
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(statement)
    finally:
        await engine.dispose()


async def test_submits_extend_one_chain_that_verifies(
    client: AsyncTestClient, settings: Settings
) -> None:
    empty = await verify(settings)
    assert empty.exit_code == 0 and f"0 record(s); last hash {GENESIS}" in empty.output

    for n in range(2):
        response = await submit_form(client, quote_form(email=f"patient{n}@example.org"))
        assert response.status_code == 303

    records = await chain(settings)
    assert len(records) == 6
    assert records[0].prev_hash == GENESIS
    assert [r.prev_hash for r in records[1:]] == [r.record_hash for r in records[:-1]]
    # Each record keeps its own proof, the personal part salted.
    assert all(r.ip and r.personal_salt for r in records)

    result = await verify(settings)
    assert result.exit_code == 0, result.output
    assert f"6 record(s); last hash {records[-1].record_hash}" in result.output


def _granted(record: Consent) -> Any:
    return update(Consent).where(Consent.id == record.id).values(granted=not record.granted)


def _address(record: Consent) -> Any:
    return update(Consent).where(Consent.id == record.id).values(ip="203.0.113.9")


def _erased_by_hand(record: Consent) -> Any:
    values = {"ip": None, "user_agent": None, "personal_salt": None}
    return update(Consent).where(Consent.id == record.id).values(**values)


def _backdated(record: Consent) -> Any:
    when = datetime(2020, 1, 1, tzinfo=UTC)
    return update(Consent).where(Consent.id == record.id).values(created_at=when)


def _deleted(record: Consent) -> Any:
    return delete(Consent).where(Consent.id == record.id)


@pytest.mark.parametrize(
    ("tamper", "broken_at", "reason"),
    [
        (_granted, 0, "its fields were changed"),
        (_address, 0, "its IP address or browser was changed"),
        (_erased_by_hand, 0, "were removed, but its request was not erased"),
        (_backdated, 0, "its fields were changed"),
        (_deleted, 1, "does not follow the record before it"),
    ],
)
async def test_a_row_edited_in_the_database_breaks_verification_at_that_row(
    client: AsyncTestClient, settings: Settings, tamper: Any, broken_at: int, reason: str
) -> None:
    for n in range(2):
        await submit_form(client, quote_form(email=f"patient{n}@example.org"))
    records = await chain(settings)
    target = records[4]  # the second lead's health-data consent
    await execute(settings, tamper(target))

    result = await verify(settings)
    assert result.exit_code == 1
    expected = {r.id: r for r in await chain(settings)}[records[4 + broken_at].id]
    assert f"broken at record #{expected.id} (recorded " in result.output
    assert expected.created_at.strftime("%Y-%m-%d %H:%M:%S UTC") in result.output
    assert reason in result.output


async def test_a_chain_rewritten_from_scratch_loses_its_anchor(
    client: AsyncTestClient, settings: Settings
) -> None:
    await submit_form(client)
    head = (await chain(settings))[-1].record_hash
    assert (await verify(settings, "--anchor", head)).exit_code == 0

    # Someone with the database recomputes every hash after changing a record: the chain is
    # consistent again, but the head noted earlier is no longer in it.
    await execute(settings, update(Consent).values(granted=True))
    database = Database(settings)
    try:
        rows = await chain(settings)
        await execute(settings, delete(Consent))
        await database.write(
            append,
            records=[
                {
                    k: getattr(r, k)
                    for k in (
                        "lead_id",
                        "kind",
                        "granted",
                        "legal_text_sha256",
                        "ip",
                        "user_agent",
                        "created_at",
                        "personal_salt",
                        "personal_hash",
                    )
                }
                for r in rows
            ],
        )
    finally:
        await database.dispose()
    assert (await verify(settings)).exit_code == 0
    missing = await verify(settings, "--anchor", head)
    assert missing.exit_code == 1
    assert f"The hash {head} is no longer in the chain" in missing.output


async def test_fifty_simultaneous_submits_make_one_unforked_chain(
    client: AsyncTestClient, settings: Settings
) -> None:
    hidden = await open_form(client)

    async def submit(n: int) -> int:
        fields = {**hidden, "submission_id": uuid.uuid4().hex}
        form = quote_form(email=f"patient{n}@example.org")
        return (await client.post("/quote", data={**fields, **form})).status_code

    assert await asyncio.gather(*(submit(n) for n in range(50))) == [303] * 50
    records = await chain(settings)
    assert len(records) == 150
    assert len({r.prev_hash for r in records}) == 150
    assert [r.prev_hash for r in records[1:]] == [r.record_hash for r in records[:-1]]
    assert (await verify(settings)).exit_code == 0


async def test_fifty_simultaneous_appends_queue_behind_each_other(settings: Settings) -> None:
    """Without the submit's retry on a unique violation: each writer has its own engine, as
    separate processes would, and none of them fails on a forked link."""
    lead = lead_row()
    await insert(settings.database_url, lead)
    health = legal_texts()["health_data"].sha256
    databases = [Database(settings) for _ in range(5)]
    try:

        async def withdraw(n: int) -> None:
            record = new_record(
                lead_id=lead.id,
                kind="health_data",
                granted=n % 2 == 0,
                legal_text_sha256=health,
                ip=f"192.0.2.{n}",
                user_agent="test",
                now=datetime.now(UTC),
            )
            await databases[n % 5].write(append, records=[record])

        await asyncio.gather(*(withdraw(n) for n in range(50)))
    finally:
        for database in databases:
            await database.dispose()
    records = await chain(settings)
    assert len(records) == 50
    assert [r.prev_hash for r in records] == [GENESIS] + [r.record_hash for r in records[:-1]]
    assert (await verify(settings)).exit_code == 0


async def test_the_database_refuses_a_second_record_on_the_same_predecessor(
    client: AsyncTestClient, settings: Settings
) -> None:
    await submit_form(client)
    first = (await chain(settings))[0]
    fork = text(
        "INSERT INTO consents (lead_id, kind, granted, legal_text_sha256, created_at, "
        "personal_hash, prev_hash, record_hash) SELECT lead_id, kind, granted, "
        "legal_text_sha256, created_at, personal_hash, prev_hash, record_hash "
        "FROM consents WHERE id = :id"
    ).bindparams(id=first.id)
    with pytest.raises(Exception, match=r"(?i)unique"):
        await execute(settings, fork)


async def test_demo_and_complete_leads_join_the_same_chain(
    client: AsyncTestClient, settings: Settings
) -> None:
    """Every way consents are written (the submit, demo-data, the bulk test factory) links
    them into one chain, whatever their order."""
    await submit_form(client)
    await insert_complete_leads(settings.database_url, count=3)
    demo = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["demo-data", "--leads", "20"],
        env={"QUOTE_DATABASE_URL": settings.database_url, "QUOTE_ENV": "test"},
    )
    assert demo.exit_code == 0, demo.output
    await submit_form(client, quote_form(email="later@example.org"))

    result = await verify(settings)
    assert result.exit_code == 0, result.output
    assert f"{3 * (1 + 3 + 20 + 1)} record(s)" in result.output
