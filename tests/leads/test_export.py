"""The CSV export: every lead of the filter, every column exactly as stored, safe for a
spreadsheet, and never a truncated file that looks complete."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from service.app import create_app
from service.leads.export import BATCH
from service.models import DeskAudit, Facilitator, Lead
from service.settings import Settings
from tests.conftest import POSTGRES_URL, _empty_tables, blocking, make_settings
from tests.factories import complete_cast, fetch_all, insert_complete_leads
from tests.signed_in import add_coordinator, sign_in

HEADER = [
    "reference",
    "created_at",
    "status",
    "full_name",
    "email",
    "phone",
    "country",
    "language",
    "patient_relation",
    "treatment",
    "destination",
    "stroke_type",
    "stroke_date",
    "medical_summary",
    "travel_window",
    "budget",
    "contact_method",
    "facilitator",
    "responded_at",
    "overdue_since",
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
]


def cell(value: object) -> str:
    """A stored value as the export must write it: a leading apostrophe before anything a
    spreadsheet would run as a formula (=, +, -, @, tab, carriage return)."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def parse(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM spreadsheets need to read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


async def expected_rows(database_url: str) -> list[list[str]]:
    """Every lead in the database, newest first (ties by id), as the export's columns."""
    engine = create_async_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            result = await session.execute(
                select(Lead, Facilitator.name)
                .outerjoin(Facilitator, Lead.facilitator_id == Facilitator.id)
                .order_by(Lead.created_at.desc(), Lead.id.desc())
            )
            return [
                [
                    cell(name if column == "facilitator" else getattr(lead, column))
                    for column in HEADER
                ]
                for lead, name in result
            ]
    finally:
        await engine.dispose()


async def test_export_of_complete_leads_matches_the_database_cell_for_cell(
    desk: AsyncTestClient, settings: Settings
) -> None:
    """2,500 routed leads with consents, events and emails in every state, seven created in
    each second so that ties on created_at fall across the export's batches."""
    cast = await complete_cast(settings.database_url)
    start = datetime.now(UTC) - timedelta(days=30)
    times = [start + timedelta(seconds=i // 7) for i in range(2500)]
    await insert_complete_leads(settings.database_url, 2500, cast=cast, times=times)

    response = await desk.get("/desk/leads/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    header, *rows = parse(response.content)
    assert header == HEADER
    expected = await expected_rows(settings.database_url)
    assert len(rows) == len(expected) == 2500
    for got, want in zip(rows, expected, strict=True):
        assert dict(zip(HEADER, got, strict=True)) == dict(zip(HEADER, want, strict=True))
    # The rich values came through: the current facilitator's name with its quotes and
    # scripts, line breaks, and formula-like cells neutralised.
    assert {row[HEADER.index("facilitator")] for row in rows} == {cast.third.name}
    assert any("\r\n" in row[HEADER.index("medical_summary")] for row in rows)
    assert any(row[HEADER.index("utm_campaign")] == "'=cmd|' /C calc'!A0" for row in rows)


async def test_export_streams_the_filter_as_safe_csv(
    desk: AsyncTestClient, settings: Settings
) -> None:
    cast = await complete_cast(settings.database_url)
    (hostile,) = await insert_complete_leads(
        settings.database_url,
        cast=cast,
        full_name='=HYPERLINK("http://evil")',
        language="fr",
        budget="+100",
        medical_summary="-2 days",
        travel_window="@once",
    )
    await insert_complete_leads(settings.database_url, 3, cast=cast, language="nl")
    response = await desk.get("/desk/leads/export.csv?language=fr")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert [r["reference"] for r in rows] == [hostile.reference]
    assert rows[0]["full_name"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["budget"] == "'+100" and rows[0]["medical_summary"] == "'-2 days"
    assert rows[0]["travel_window"] == "'@once"
    assert rows[0]["facilitator"] == cast.third.name
    (audit,) = [
        a for a in await fetch_all(settings.database_url, DeskAudit) if a.action != "sign_in"
    ]
    assert audit.action == "export_csv" and audit.actor == "coco@example.org"
    assert audit.data == {"language": "fr"}


async def test_export_of_nothing_is_the_header_alone(
    desk: AsyncTestClient, settings: Settings
) -> None:
    await insert_complete_leads(settings.database_url, 2)
    response = await desk.get(f"/desk/leads/export.csv?q={uuid.uuid4().hex}")
    assert response.status_code == 200
    assert parse(response.content) == [HEADER]


@pytest.fixture
def postgresql_settings(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """A database whose connection a test can cut: PostgreSQL only."""
    if not POSTGRES_URL:
        pytest.skip("needs QUOTE_TEST_POSTGRES_URL (CI sets it)")
    url: str = request.getfixturevalue("postgresql_url")
    yield make_settings(url)
    blocking(_empty_tables(url))


async def test_a_batch_that_fails_mid_stream_never_finishes_the_response(
    postgresql_settings: Settings,
) -> None:
    """The export's database connection dies once the first batch is on its way. The
    response is never finished (no final chunk), so the server drops the connection and the
    client sees a failed download, not a short file that looks whole. (Served by uvicorn, the
    client reads "peer closed connection without sending complete message body".)"""
    settings = postgresql_settings
    await insert_complete_leads(settings.database_url, BATCH + 10)
    await add_coordinator(settings, "coco@example.org")
    app = create_app(settings)
    # The app, its connections and this test share one event loop: the test steps in
    # between two chunks of the response.
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
        ) as client,
    ):
        assert (await sign_in(client, "coco@example.org")).status_code == 303  # type: ignore[arg-type]
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/desk/leads/export.csv",
            "raw_path": b"/desk/leads/export.csv",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver.local"), (b"cookie", cookie.encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver.local", 80),
        }
        sent: list[dict[str, Any]] = []
        finished = asyncio.Event()
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await finished.wait()  # the client stays until the response ends
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                finished.set()
            if message["type"] == "http.response.body" and len(sent) == 2:
                await cut_open_transactions(settings.database_url)

        with pytest.raises(Exception):  # noqa: B017 - whatever the server makes of it
            await app(scope, receive, send)  # type: ignore[arg-type]
    start, *bodies = sent
    assert start["type"] == "http.response.start" and start["status"] == 200
    assert len(bodies) == 1 and len(parse(bodies[0]["body"])) == 1 + BATCH
    assert all(body.get("more_body") for body in bodies)  # never the end of the response


async def cut_open_transactions(database_url: str) -> None:
    """End every connection to this database that is inside a transaction (the export's)."""
    engine = create_async_engine(POSTGRES_URL or "", isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            name = database_url.rsplit("/", 1)[1]
            cut = await conn.scalars(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND state = 'idle in transaction'"
                ),
                {"name": name},
            )
            assert list(cut) == [True]
    finally:
        await engine.dispose()
