"""Logs: one JSON object per line in production (a line per request with its route template, a
line per send attempt with ids and codes), readable lines in development, nothing personal."""

from __future__ import annotations

import json
import logging
import sys
import uuid

import httpx
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.clock import utc_now
from service.leads.assignments import respond_token
from service.leads.privacy import privacy_token
from service.logs import JsonFormatter
from service.settings import Settings
from tests.conftest import make_settings
from tests.factories import quote_data
from tests.service_processes import StartProcess, service_env
from tests.smtp import SmtpServer, free_port, mail_settings

PATIENT = "ana.peeters@example.org"


def json_lines(output: str) -> list[dict[str, object]]:
    """Every line of the output as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_a_json_line_carries_the_extra_fields_and_escapes_everything_else() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "service.test", logging.WARNING, __file__, 1, "forged\n%s", ("\u202e\x00line",), exc_info
    )
    record.outbox_id = 7
    line = JsonFormatter().format(record)
    assert "\n" not in line and line.isascii()
    entry = json.loads(line)
    assert entry["message"] == "forged\n\u202e\x00line"
    assert entry["level"] == "WARNING" and entry["logger"] == "service.test"
    assert entry["outbox_id"] == 7 and entry["error"] == "ValueError"
    assert entry["time"].endswith("+00:00")


def test_json_logs_have_a_line_per_request_by_route_and_nothing_personal(
    own_sqlite_url: str, processes: StartProcess
) -> None:
    port = free_port()
    env = service_env(
        QUOTE_ENV="test",
        QUOTE_LOG_FORMAT="json",
        QUOTE_DATABASE_URL=own_sqlite_url,
        QUOTE_MAILER_ENABLED="false",
        QUOTE_RATE_LIMIT="0",
    )
    app = processes(["run", "--port", str(port)], env)
    base = f"http://127.0.0.1:{port}"
    app.wait_until_serving(base)
    assert httpx.get(f"{base}/?utm_source=newsletter-ana-peeters").status_code == 200
    created = httpx.post(f"{base}/api/v1/quotes", json=quote_data())
    assert created.status_code == 201
    reference = created.json()["reference"]
    assert httpx.get(f"{base}/quote/thanks/{reference}").status_code == 200
    assert httpx.get(f"{base}/desk/leads?q={PATIENT}").status_code == 303
    assert app.stop() in (0, -15)

    output = app.output()
    lines = json_lines(output)  # uvicorn's own lines too
    requests = [(e["method"], e["route"], e["status"]) for e in lines if "route" in e]
    assert ("GET", "/", 200) in requests
    assert ("POST", "/api/v1/quotes", 201) in requests
    assert ("GET", "/quote/thanks/{reference}", 200) in requests
    assert ("GET", "/desk/leads", 303) in requests
    assert all(isinstance(e["duration_ms"], float) for e in lines if "route" in e)
    assert any(e["message"] == "Application startup complete." for e in lines)
    for private in (reference, "newsletter", "ana.peeters", "Ana Peeters", "Peeters"):
        assert private not in output


def test_readable_logs_carry_no_query_string_and_no_personal_links_token(
    own_sqlite_url: str, processes: StartProcess
) -> None:
    """The token of /privacy/... opens (and erases) a patient's request; /respond/... answers
    for a facilitator: whoever reads the logs must not be able to."""
    settings = make_settings(own_sqlite_url)
    port = free_port()
    env = service_env(
        QUOTE_ENV="test",
        QUOTE_LOG_FORMAT="text",
        QUOTE_DATABASE_URL=own_sqlite_url,
        QUOTE_SECRET_KEY=settings.secret_key,
        QUOTE_MAILER_ENABLED="false",
        QUOTE_RATE_LIMIT="0",
    )
    app = processes(["run", "--port", str(port)], env)
    base = f"http://127.0.0.1:{port}"
    app.wait_until_serving(base)
    created = httpx.post(f"{base}/api/v1/quotes", json=quote_data())
    lead_id = uuid.UUID(created.json()["id"])
    private = privacy_token(lead_id=lead_id, settings=settings, now=utc_now())
    respond = respond_token(settings=settings, lead_id=lead_id, facilitator_id=1, now=utc_now())
    assert httpx.get(f"{base}/privacy/{private}").status_code == 200
    assert httpx.post(f"{base}/privacy/{private}/erase").status_code == 403  # no CSRF token
    httpx.get(f"{base}/respond/{respond}")
    assert httpx.get(f"{base}/privacy/link").status_code == 200
    assert httpx.get(f"{base}/desk/leads?q={PATIENT}").status_code == 303
    assert app.stop() in (0, -15)

    output = app.output()
    assert '"GET /privacy/{token} HTTP/1.1" 200' in output
    assert '"POST /privacy/{token}/erase HTTP/1.1" 403' in output
    assert '"GET /respond/{token} HTTP/1.1"' in output
    assert '"GET /privacy/link HTTP/1.1" 200' in output
    assert '"GET /desk/leads HTTP/1.1" 303' in output
    for secret in (private, respond, private.split(".")[0], respond.split(".")[0], "ana.peeters"):
        assert secret not in output


async def test_the_worker_logs_each_send_attempt_with_ids_and_codes_only(
    settings: Settings, smtp: SmtpServer, processes: StartProcess
) -> None:
    mail = mail_settings(
        settings.database_url, smtp, default_facilitator_email="desk@facilitator.example"
    )
    async with AsyncTestClient(app=create_app(mail)) as client:
        created = await client.post("/api/v1/quotes", json=quote_data())
        assert created.status_code == 201
    env = service_env(
        QUOTE_ENV="test",
        QUOTE_LOG_FORMAT="json",
        QUOTE_DATABASE_URL=settings.database_url,
        QUOTE_SMTP_HOST="127.0.0.1",
        QUOTE_SMTP_PORT=str(smtp.port),
        QUOTE_MAIL_FROM=mail.mail_from,
    )
    worker = processes(["worker"], env)
    await smtp.inbox.wait_for(2, within=30)
    worker.wait_for_output("email sent")
    assert worker.stop() == 0

    output = worker.output()
    sends = [e for e in json_lines(output) if e.get("outcome")]
    assert sorted(e["email_kind"] for e in sends) == [
        "facilitator_new_lead",
        "patient_confirmation",
    ]
    for entry in sends:
        assert entry["lead"] == created.json()["reference"]
        assert entry["outcome"] == "sent" and entry["smtp_code"] == 250
        assert isinstance(entry["outbox_id"], int) and entry["attempt"] == 1
    assert PATIENT not in output and "desk@facilitator.example" not in output
    assert "Peeters" not in output
