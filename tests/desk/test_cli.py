"""The desk's commands: creating a coordinator from a script, and demo data."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner

from service.cli import main
from service.models import Coordinator, Lead
from service.settings import Settings
from tests.factories import fetch_all
from tests.signed_in import sign_in


def env(settings: Settings) -> dict[str, str]:
    return {"QUOTE_DATABASE_URL": settings.database_url, "QUOTE_ENV": "test"}


def test_coordinator_create_reads_the_password_from_stdin(settings: Settings) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["coordinator", "create", "Boss@Example.org", "--role", "admin"],
        input="a long enough password\n",
        env=env(settings),
    )
    assert result.exit_code == 0, result.output
    assert "Coordinator Boss@Example.org created with role admin." in result.output
    again = runner.invoke(
        main,
        ["coordinator", "create", "boss@example.org"],
        input="a long enough password\n",
        env=env(settings),
    )
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(
        main, ["coordinator", "create", "x@example.org"], input="short\n", env=env(settings)
    )
    assert short.exit_code != 0 and "at least 12 characters" in short.output


async def test_created_admin_can_sign_in(settings: Settings, client) -> None:  # type: ignore[no-untyped-def]
    # The command runs its own event loop: give it a thread, as a shell would a process.
    await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["coordinator", "create", "boss@example.org", "--role", "admin"],
        input="a long enough password\n",
        env=env(settings),
    )
    (stored,) = await fetch_all(settings.database_url, Coordinator)
    assert stored.role == "admin" and stored.password_hash.startswith("$argon2")
    response = await sign_in(client, "boss@example.org", "a long enough password")
    assert response.status_code == 303
    assert (await client.get("/desk/facilitators")).status_code == 200


async def test_demo_data_inserts_leads_the_desk_lists(settings: Settings) -> None:
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["demo-data", "--leads", "120"], env=env(settings)
    )
    assert result.exit_code == 0, result.output
    leads = await fetch_all(settings.database_url, Lead)
    assert len(leads) == 120
    assert len({lead.reference for lead in leads}) == 120
    assert {lead.language for lead in leads} <= {"en", "fr", "nl", "de"}


def test_access_log_leaves_out_query_strings() -> None:
    """The desk's search puts names and emails in the query string; the access log drops it."""
    import logging

    from service.cli import WithoutQueryString

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/desk/leads?q=anna%40example.org", "1.1", 200),
        None,
    )
    assert WithoutQueryString().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /desk/leads HTTP/1.1" 200'
