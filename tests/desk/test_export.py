"""The CSV export: every lead of the filter, every column exactly as stored, safe for a
spreadsheet, and never a truncated file that looks complete."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from service.models import DeskAudit, Facilitator, Lead
from service.settings import Settings
from tests.factories import complete_cast, fetch_all, insert_complete_leads

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
                for lead, name in result.tuples()
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
