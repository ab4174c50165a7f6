"""GET /metrics: who may read it, and that it counts what people did (leads, refusals, the
outbox, the mail workers' sends) without a path, a reference or an address in it."""

from __future__ import annotations

import datetime as dt

import httpx
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.settings import Settings
from tests.conftest import make_settings
from tests.factories import hidden_inputs, quote_data, quote_form
from tests.service_processes import StartProcess, service_env
from tests.smtp import Inbox, MakeWorker, StartSmtp, free_port, mail_settings

TOKEN = "metrics-token-" + "m" * 30
BEARER = {"Authorization": f"Bearer {TOKEN}"}
Client = AsyncTestClient  # type: ignore[type-arg]


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


async def scrape(client: Client) -> str:
    response = await client.get("/metrics", headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


async def test_metrics_answer_the_token_only(settings: Settings) -> None:
    async with AsyncTestClient(app=create_app(settings)) as client:
        nobody = await client.get("/metrics")
        assert nobody.status_code == 403 and "QUOTE_METRICS_TOKEN" in nobody.text

    guarded = settings.model_copy(update={"metrics_token": TOKEN})
    async with AsyncTestClient(app=create_app(guarded)) as client:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": "Bearer t\u00f6ken".encode("latin-1")},  # not ASCII: no 500
        ):
            refused = await client.get("/metrics", headers=headers)
            assert refused.status_code == 401, headers
            assert refused.headers["www-authenticate"] == "Bearer"
            assert "quote_" not in refused.text
        assert "quote_leads" in await scrape(client)


async def test_metrics_count_leads_refusals_and_the_outbox_by_route_not_by_path(
    settings: Settings,
) -> None:
    counted = settings.model_copy(
        update={
            "metrics_token": TOKEN,
            "rate_limit": "5/hour",
            "default_facilitator_email": "desk@facilitator.example",
        }
    )
    async with AsyncTestClient(app=create_app(counted)) as client:
        client.follow_redirects = False
        before = await scrape(client)

        created = await client.post("/api/v1/quotes", json=quote_data())
        assert created.status_code == 201
        reference = created.json()["reference"]
        assert (await client.get(f"/quote/thanks/{reference}")).status_code == 200
        invalid = await client.post("/api/v1/quotes", json=quote_data(email="not an address"))
        assert invalid.status_code == 422

        hidden = hidden_inputs((await client.get("/")).text)
        form_error = await client.post("/quote", data={**hidden, **quote_form(country="XX")})
        assert form_error.status_code == 400
        hidden = hidden_inputs((await client.get("/")).text)
        spam = await client.post("/quote", data={**hidden, **quote_form(), "website": "x"})
        assert spam.status_code == 303  # stored as spam, never refused to its face
        assert (await client.post("/api/v1/quotes", json=quote_data())).status_code == 201
        limited = await client.post("/api/v1/quotes", json=quote_data())
        assert limited.status_code == 429
        missing = await client.get("/quote/thanks/ana.peeters@example.org/x")
        assert missing.status_code == 404

        after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("quote_submits_refused_total", reason="validation") == 2
    assert grew("quote_submits_refused_total", reason="spam") == 1
    assert grew("quote_submits_refused_total", reason="rate_limit") == 1
    assert ("quote_submits_refused_total", frozenset({("reason", "cap")})) in samples(after)

    assert value(after, "quote_database_up") == 1
    assert value(after, "quote_leads", status="new") == 2
    assert value(after, "quote_leads", status="spam") == 1
    assert value(after, "quote_outbox_emails", status="pending") == 4  # no mail for spam
    assert value(after, "quote_outbox_emails", status="dead") == 0
    assert value(after, "quote_outbox_oldest_due_age_seconds") >= 0
    assert value(after, "quote_email_send_attempts_total", outcome="sent") == 0
    assert "quote_mail_worker_last_heartbeat_timestamp_seconds" not in after

    posted = {"method": "POST", "route": "/api/v1/quotes"}
    assert grew("quote_http_request_duration_seconds_count", **posted, status="2xx") == 2
    assert grew("quote_http_request_duration_seconds_count", **posted, status="4xx") == 2
    thanks = {"method": "GET", "route": "/quote/thanks/{reference}", "status": "2xx"}
    assert grew("quote_http_request_duration_seconds_count", **thanks) == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "4xx"}
    assert grew("quote_http_request_duration_seconds_count", **unmatched) >= 1
    # Labels name routes, never what a path carried.
    assert reference not in after and "example.org" not in after
    assert "_created" not in after  # no creation timestamp beside every counter


async def test_spam_and_withheld_confirmations_are_counted_from_the_api_as_from_the_form(
    settings: Settings,
) -> None:
    """Counted once their lead is stored: a bot filling the honeypot through the API, and a
    patient whose address already had its confirmations for the day."""
    counted = settings.model_copy(
        update={
            "metrics_token": TOKEN,
            "confirmations_per_address_per_day": 1,
            "default_facilitator_email": "desk@facilitator.example",
        }
    )
    async with AsyncTestClient(app=create_app(counted)) as client:
        before = await scrape(client)
        bot = await client.post("/api/v1/quotes", json=quote_data(website="http://spam.example"))
        first = await client.post("/api/v1/quotes", json=quote_data(treatment="Stem cells"))
        again = await client.post("/api/v1/quotes", json=quote_data(treatment="Physiotherapy"))
        assert [bot.status_code, first.status_code, again.status_code] == [201, 201, 201]
        after = await scrape(client)

    def grew(reason: str) -> float:
        name = "quote_submits_refused_total"
        return value(after, name, reason=reason) - value(before, name, reason=reason)

    assert (grew("spam"), grew("cap")) == (1, 1)


async def test_send_attempts_and_the_heartbeat_come_from_the_workers(
    database_url: str, start_smtp: StartSmtp, make_worker: MakeWorker
) -> None:
    server = start_smtp(Inbox(refuse=lambda a: "550 5.1.1 no such user" if "ana" in a else None))
    settings = mail_settings(
        database_url,
        server,
        metrics_token=TOKEN,
        default_facilitator_email="desk@facilitator.example",
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        # Two workers, as two processes would be, each sending one lead's emails (the request,
        # the refused confirmation, the operator's alert about it): their attempts add up.
        for worker in (make_worker(settings), make_worker(settings)):
            assert (await client.post("/api/v1/quotes", json=quote_data())).status_code == 201
            worker.start()
            await server.inbox.wait_for(len(server.inbox.messages) + 2)
            await worker.stop()
        text = await scrape(client)
    assert value(text, "quote_email_send_attempts_total", outcome="sent") == 4
    assert value(text, "quote_email_send_attempts_total", outcome="dead") == 2
    assert value(text, "quote_email_send_attempts_total", outcome="retry") == 0
    assert value(text, "quote_outbox_emails", status="dead") == 2
    beat = value(text, "quote_mail_worker_last_heartbeat_timestamp_seconds")
    assert abs(beat - dt.datetime.now(dt.UTC).timestamp()) < 30


async def test_metrics_say_when_the_database_does_not_answer() -> None:
    settings = make_settings("postgresql+asyncpg://nobody@127.0.0.1:9/none", metrics_token=TOKEN)
    app = create_app(settings)
    app.on_startup.clear()  # startup would try the database too
    async with AsyncTestClient(app=app) as client:
        text = await scrape(client)
    assert value(text, "quote_database_up") == 0
    assert "quote_http_request_duration_seconds" in text


def test_metrics_answer_listed_addresses_as_the_trusted_proxy_reports_them(
    own_sqlite_url: str, processes: StartProcess
) -> None:
    port = free_port()
    env = service_env(
        QUOTE_ENV="test",
        QUOTE_DATABASE_URL=own_sqlite_url,
        QUOTE_MAILER_ENABLED="false",
        QUOTE_TRUSTED_PROXIES="127.0.0.1",
        QUOTE_METRICS_ALLOW="127.0.0.1, 10.0.0.0/8",
    )
    app = processes(["run", "--port", str(port)], env)
    base = f"http://127.0.0.1:{port}"
    app.wait_until_serving(base)
    assert httpx.get(f"{base}/metrics").status_code == 200  # from 127.0.0.1 itself
    # Through the proxy, the client is whoever the proxy says.
    inside = httpx.get(f"{base}/metrics", headers={"X-Forwarded-For": "10.1.2.3"})
    assert inside.status_code == 200 and "quote_leads" in inside.text
    outside = httpx.get(f"{base}/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
    assert outside.status_code == 403
