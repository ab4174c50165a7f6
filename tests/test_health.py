"""Liveness and readiness probes: the database, the outbox backlog, the mail worker's heartbeat."""

from litestar.testing import AsyncTestClient

from service.app import create_app
from tests.conftest import make_settings
from tests.factories import quote_data
from tests.smtp import Clock, MakeWorker, SmtpServer, mail_settings


async def test_healthz(client: AsyncTestClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_when_database_answers(client: AsyncTestClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200


async def test_readyz_is_503_when_database_is_unreachable(sqlite_url: str) -> None:
    # Nothing listens on port 9 (discard): the database cannot be reached.
    settings = make_settings("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    app = create_app(settings)
    app.on_startup.clear()  # startup would try the database too; readiness is what we test
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "database unavailable"}


async def test_readyz_reports_the_backlog_and_the_mail_workers_heartbeat(
    database_url: str, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    settings = mail_settings(
        database_url, smtp, default_facilitator_email="desk@facilitator.example"
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.post("/api/v1/quotes", json=quote_data())).status_code == 201
        queued = (await client.get("/readyz")).json()
        # No worker ever ran on this database: none is expected yet, and the backlog shows it.
        assert queued["status"] == "ok"
        assert queued["outbox"]["pending"] == 2 and queued["outbox"]["dead"] == 0
        assert queued["outbox"]["oldest_due_seconds"] >= 0
        assert queued["mail_worker"] == {"last_heartbeat": None, "silent_seconds": None}

        worker = make_worker(settings)
        worker.start()
        await smtp.inbox.wait_for(2)
        await worker.stop()

        sent = await client.get("/readyz")
    assert sent.status_code == 200
    body = sent.json()
    assert body["outbox"] == {
        "pending": 0,
        "sending": 0,
        "retry": 0,
        "dead": 0,
        "oldest_due_seconds": 0,
    }
    assert body["mail_worker"]["last_heartbeat"] is not None
    assert 0 <= body["mail_worker"]["silent_seconds"] < 10


async def test_readyz_is_503_once_the_mail_worker_has_been_silent_too_long(
    database_url: str, smtp: SmtpServer, make_worker: MakeWorker, clock: Clock
) -> None:
    settings = mail_settings(database_url, smtp, worker_silent_seconds=300)
    clock.advance(minutes=-10)  # the worker's last poll was ten minutes ago
    worker = make_worker(settings)
    worker.start()
    await worker.stop()
    async with AsyncTestClient(app=create_app(settings)) as client:
        silent = await client.get("/readyz")
    assert silent.status_code == 503
    assert silent.json()["status"] == "mail worker silent"
    assert 590 < silent.json()["mail_worker"]["silent_seconds"] < 700

    never = settings.model_copy(update={"worker_silent_seconds": 0})  # 0: no such check
    async with AsyncTestClient(app=create_app(never)) as client:
        assert (await client.get("/readyz")).status_code == 200
