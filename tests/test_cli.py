"""The `quote-desk` command: facilitators, coordinators, demo data, and `run` with the
development mail sink and its access log."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from ipaddress import ip_address, ip_network
from pathlib import Path

import httpx
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from service import migrations
from service.cli import WithoutQueryString, main
from service.content.documents import legal_texts
from service.desk.demo import DEMO_USER_AGENT, FACILITATORS
from service.models import Coordinator, Facilitator, Lead, OutboxMessage
from service.settings import Settings
from tests.factories import add_facilitators, fetch_all, quote_data, stored_leads
from tests.service_processes import StartProcess, service_env
from tests.signed_in import sign_in
from tests.smtp import free_port


def test_facilitator_add_list_disable(database_url: str) -> None:
    runner = CliRunner(env={"QUOTE_DATABASE_URL": database_url})
    added = runner.invoke(
        main,
        [
            "facilitator",
            "add",
            "Care@Clinic.example",
            "--name",
            "Gent Care",
            "--language",
            "nl",
            "--language",
            "FR",
            "--destination",
            "Belgium",
            "--weight",
            "2",
            "--country",
            " be ",
        ],
    )
    assert added.exit_code == 0, added.output
    again = runner.invoke(main, ["facilitator", "add", "care@clinic.example", "--name", "Other"])
    assert again.exit_code == 1 and "already uses this email address" in again.output

    for wrong in (
        ["not-an-email", "--name", "X"],
        ["x@clinic.example", "--name", "X", "--language", "xx"],
    ):
        refused = runner.invoke(main, ["facilitator", "add", *wrong])
        assert refused.exit_code == 2 and "Invalid value" in refused.output
    unknown = runner.invoke(
        main, ["facilitator", "add", "x@clinic.example", "--name", "X", "--country", "XX"]
    )
    assert unknown.exit_code == 2
    assert "Invalid value for --country" in unknown.output
    assert "Use a two-letter country code (ISO 3166-1)" in unknown.output

    listed = runner.invoke(main, ["facilitator", "list"])
    assert "care@clinic.example\tGent Care\tactive\tweight 2\tlanguages: nl, fr" in listed.output
    assert "destinations: belgium" in listed.output and "treatments: any" in listed.output
    assert "\tcountry: BE" in listed.output

    assert runner.invoke(main, ["facilitator", "disable", "care@clinic.example"]).exit_code == 0
    assert "\tdisabled\t" in runner.invoke(main, ["facilitator", "list"]).output
    missing = runner.invoke(main, ["facilitator", "disable", "nobody@clinic.example"])
    assert missing.exit_code == 1 and "No facilitator" in missing.output


def test_run_without_smtp_host_saves_mail_in_the_dev_sink(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'quote-desk.db'}"
    migrations.upgrade(database_url)
    port, smtp_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("QUOTE_")} | {
        "QUOTE_ENV": "development",
        "QUOTE_DATABASE_URL": database_url,
        "QUOTE_VAR_DIR": str(tmp_path / "var"),
        "QUOTE_DEV_SMTP_PORT": str(smtp_port),
        "QUOTE_RATE_LIMIT": "0",
        "QUOTE_DEFAULT_FACILITATOR_EMAIL": "desk@facilitator.example",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.1)
        created = httpx.post(f"{base}/api/v1/quotes", json=quote_data())
        assert created.status_code == 201
        mail_dir = tmp_path / "var" / "mail"
        while len(list(mail_dir.glob("*.eml"))) < 2:
            assert time.monotonic() < deadline + 10, "the emails did not reach the sink"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells of it.
    assert process.returncode in (0, -signal.SIGTERM)
    assert "mail worker stopped" in output and "Application shutdown complete" in output
    assert f"saved as .eml files in {mail_dir}/" in output
    saved = b"".join(path.read_bytes() for path in mail_dir.glob("*.eml"))
    assert b"X-Sink-Envelope-To: desk@facilitator.example" in saved
    assert b"X-Sink-Envelope-To: ana.peeters@example.org" in saved
    assert "ana.peeters" not in output and "Ana" not in output  # no personal data in the logs


def test_run_says_clearly_when_the_mail_sink_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "QUOTE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
            "QUOTE_ENV": "development",
            "QUOTE_SMTP_HOST": "",
            "QUOTE_DEV_SMTP_PORT": str(port),
        }
        result = CliRunner(env=env).invoke(main, ["run", "--port", str(free_port())])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


def test_a_database_that_does_not_answer_is_said_in_one_line() -> None:
    """PostgreSQL down (or a wrong port): every command that needs it says so, exit status 1."""
    url = f"postgresql+asyncpg://postgres:s3cret@127.0.0.1:{free_port()}/quote"
    runner = CliRunner(env={"QUOTE_DATABASE_URL": url, "QUOTE_MAILER_ENABLED": "false"})
    for command in (
        ["db", "upgrade"],
        ["run", "--port", str(free_port())],
        ["facilitator", "list"],
        ["consent", "verify"],
        ["purge", "--older-than", "30", "--dry-run"],
    ):
        result = runner.invoke(main, command)
        assert result.exit_code == 1, (command, result.output)
        assert "The database does not answer (ConnectionRefusedError)" in result.output, command
        assert "127.0.0.1" in result.output and "s3cret" not in result.output
        assert "Traceback" not in result.output


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


async def test_demo_data_makes_complete_leads_the_desk_lists(
    settings: Settings, desk: AsyncTestClient
) -> None:
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["demo-data", "--leads", "120"], env=env(settings)
    )
    assert result.exit_code == 0, result.output
    assert "Inserting demo leads" in result.output and "Inserted 120 demo leads" in result.output
    leads = await stored_leads(settings.database_url)
    assert len(leads) == 120
    assert len({lead.reference for lead in leads}) == 120
    assert {lead.language for lead in leads} <= {"en", "fr", "nl", "de"}

    # Routed to real facilitator rows (demo ones: there were none), consents against the
    # stored legal texts and marked as demo, a timeline that tells the emails' and the
    # pipeline's story, and an email in every outbox state.
    facilitators = {f.id: f for f in await fetch_all(settings.database_url, Facilitator)}
    emails = await fetch_all(settings.database_url, OutboxMessage)
    texts = {kind: text.sha256 for kind, text in legal_texts().items()}
    for lead in leads:
        assert lead.facilitator_id in facilitators and facilitators[lead.facilitator_id].active
        assert [(c.kind, c.legal_text.sha256) for c in lead.consents] == list(texts.items())
        assert all(c.granted for c in lead.consents if c.kind != "marketing")
        for consent in lead.consents:
            assert ip_address(consent.ip) in ip_network("192.0.2.0/24")  # documentation only
            assert consent.user_agent == DEMO_USER_AGENT
        kinds = [e.kind for e in lead.events]
        assert kinds[:2] == ["created", "routed"]
        moves = [(e.data["from"], e.data["to"]) for e in lead.events if e.kind == "status_changed"]
        assert [old for old, _ in moves] == ["new", *(new for _, new in moves)][: len(moves)]
        assert (moves[-1][1] if moves else "new") == lead.status
        mine = [m for m in emails if m.lead_id == lead.id]
        reassigned = [e for e in lead.events if e.kind == "reassigned"]
        assert sorted(m.kind for m in mine) == [
            *["facilitator_new_lead"] * (1 + len(reassigned)),
            "patient_confirmation",
        ]
        if reassigned:
            assert reassigned[-1].data["to_facilitator_id"] == lead.facilitator_id
        told = {e.data["outbox_id"] for e in lead.events if e.kind.startswith("email_")}
        assert told == {m.id for m in mine if m.status in ("sent", "retry", "dead")}
        assert [e.created_at for e in lead.events] == sorted(e.created_at for e in lead.events)
    assert {m.status for m in emails} == {"pending", "sending", "sent", "retry", "dead"}
    for message in emails:
        if message.status in ("pending", "sending", "retry"):  # could still be sent
            assert message.kind == "patient_confirmation"
            assert message.recipient.endswith("@example.org")
        if message.status in ("retry", "dead"):
            assert message.last_error and message.last_error_code
    assert {f.email for f in facilitators.values()} == {f["email"] for f in FACILITATORS}

    page = await desk.get("/desk/leads")
    assert page.status_code == 200 and leads[-1].reference in page.text
    assert all(re.fullmatch(r"Q-[2-9A-HJKMNP-Z]{6}", lead.reference) for lead in leads)
    found = await desk.get(f"/desk/leads?q={leads[0].reference.lower()}")  # as a person types it
    assert re.findall(r'<a href="/desk/leads/[0-9a-f-]{36}">(Q-\w+)</a>', found.text) == [
        leads[0].reference
    ]
    newest = await desk.get(f"/desk/leads/{leads[-1].id}")
    assert newest.status_code == 200 and "192.0.2." in newest.text
    assert DEMO_USER_AGENT in newest.text
    export = await desk.get("/desk/leads/export.csv")
    assert export.status_code == 200 and export.text.count("\n") > 120
    # Each demo lead is a request the API would take as it is.
    fields = ("full_name", "email", "phone", "country", "language", "contact_method")
    fields += ("patient_relation", "treatment", "destination", "stroke_type", "stroke_date")
    fields += ("medical_summary", "travel_window", "budget", "utm_source", "utm_medium")
    for lead in leads[::7]:
        request = {f: getattr(lead, f) for f in fields} | {
            "consent_disclaimer": True,
            "consent_health_data": True,
        }
        accepted = await desk.post("/api/v1/quotes", json=request)
        assert accepted.status_code == 201, (request, accepted.text)


async def test_demo_data_routes_to_the_facilitators_there_are(settings: Settings) -> None:
    (clinic,) = await add_facilitators(
        settings.database_url, {"name": "Only Clinic", "email": "only@clinic.example"}
    )
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["demo-data", "--leads", "30"], env=env(settings)
    )
    assert result.exit_code == 0, result.output
    assert {lead.facilitator_id for lead in await fetch_all(settings.database_url, Lead)} == {
        clinic.id
    }
    assert len(await fetch_all(settings.database_url, Facilitator)) == 1


def test_demo_data_refuses_production(settings: Settings) -> None:
    production = {**env(settings), "QUOTE_ENV": "production", "QUOTE_SECRET_KEY": "s" * 48}
    result = CliRunner().invoke(main, ["demo-data", "--leads", "5"], env=production)
    assert result.exit_code != 0 and "refuses to run with QUOTE_ENV=production" in result.output


def test_access_log_leaves_out_query_strings() -> None:
    """The desk's search puts names and emails in the query string; the access log drops it."""
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


def test_run_with_workers_serves_from_several_processes_that_count_together(
    own_sqlite_url: str, processes: StartProcess, tmp_path: Path
) -> None:
    port = free_port()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = service_env(
        QUOTE_ENV="test",
        QUOTE_DATABASE_URL=own_sqlite_url,
        QUOTE_MAILER_ENABLED="false",
        QUOTE_METRICS_ALLOW="127.0.0.1",
        TMPDIR=str(scratch),
    )
    server = processes(["run", "--port", str(port), "--workers", "2"], env)
    base = f"http://127.0.0.1:{port}"
    server.wait_until_serving(base)
    deadline = time.monotonic() + 60
    while server.output().count("Application startup complete") < 2:
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.2)

    def healthz_count() -> float:
        with httpx.Client(base_url=base) as fresh:  # a new connection: either process answers
            text = fresh.get("/metrics").text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("quote_http_request_duration_seconds_count")
            and 'route="/healthz"' in line
        )

    # Both processes keep their counts in the shared directory, each in files of its own pid.
    (shared,) = scratch.glob("quote-desk-metrics-*")
    pids = {path.stem.rsplit("_", 1)[1] for path in shared.glob("*.db")}
    assert len(pids) == 2, pids
    before = healthz_count()
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: httpx.get(f"{base}/healthz").status_code, range(40)))
    assert codes == [200] * 40
    # Whichever process answers the scrape answers for both.
    assert [healthz_count() - before for _ in range(4)] == [40] * 4
    assert server.stop() in (0, -signal.SIGTERM)
    assert not list(scratch.glob("quote-desk-metrics-*"))  # the shared directory is removed
    assert "died" not in server.output()  # no process killed by uvicorn while it started
