"""Many instances, as production runs them: two app processes and two standalone mail workers,
real subprocesses sharing PostgreSQL and Redis, sending to a real SMTP server. One app and one
worker are killed (-9) in the middle of a few hundred quotes. Every acknowledged quote is stored
once, every email is delivered at least once (duplicates are counted), the rate limit holds
across the apps, a desk session works on either, and no log line carries personal data."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy.engine import make_url

from service.settings import ROOT
from tests.conftest import POSTGRES_URL, REDIS_URL, _admin, blocking
from tests.factories import hidden_inputs, outbox_rows, quote_data, quote_form, stored_leads
from tests.service_processes import ServiceProcess, StartProcess, service_env
from tests.smtp import SmtpServer, free_port

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs QUOTE_TEST_POSTGRES_URL")

QUOTES = 300
KILL_AFTER = 100  # acknowledged quotes before one app and one worker are killed
CLIENTS = 8
RATE_LIMIT = 5  # per client address and hour, across both apps
BURST = 40  # submits from one address at once
DB_PASSWORD = "instances-db-secret"  # PostgreSQL here trusts local users: any password works
DESK_EMAIL, DESK_PASSWORD = "ops@quote-desk.example", "instances desk password"
FACILITATOR = "desk@facilitator.example"


def patient(i: int) -> str:
    return f"patient.{i}@example.org"


@pytest.fixture
def instances_database() -> Iterator[str]:
    assert POSTGRES_URL
    name = f"quote_desk_instances_{uuid.uuid4().hex[:8]}"
    blocking(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name, password=DB_PASSWORD)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        blocking(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Load:
    """Quotes sent round-robin to the apps that answer; a quote that got no answer is sent
    again, to the other app, with the same idempotency key (API) or submission id (form)."""

    apps: list[str]
    dead: set[str] = field(default_factory=set)
    acknowledged: dict[int, str] = field(default_factory=dict)  # quote number -> reference
    retried: int = 0
    # The page each form quote was filled on (hidden fields, CSRF cookie): sent again, it is the
    # same page, as a browser resends it; its render time is signed for its submission id.
    pages: dict[int, tuple[dict[str, str], httpx.Cookies]] = field(default_factory=dict)

    def app_for(self, i: int, attempt: int) -> str:
        alive = [app for app in self.apps if app not in self.dead] or self.apps
        return alive[(i + attempt) % len(alive)]

    async def quote(self, i: int) -> None:
        address = f"10.{i // 60000}.{i // 250 % 240}.{i % 250 + 1}"
        for attempt in range(6):
            base = self.app_for(i, attempt)
            try:
                reference = await (self._form if i % 3 == 0 else self._api)(base, i, address)
            except (httpx.TransportError, AssertionError):
                self.retried += 1
                await asyncio.sleep(0.2)
                continue
            self.acknowledged[i] = reference
            return
        raise AssertionError(f"quote {i} was never acknowledged")

    async def _api(self, base: str, i: int, address: str) -> str:
        async with httpx.AsyncClient(base_url=base, timeout=20) as client:
            response = await client.post(
                "/api/v1/quotes",
                json=quote_data(email=patient(i)),
                headers={"Idempotency-Key": f"instances-{i}", "X-Forwarded-For": address},
            )
        assert response.status_code == 201, response.text
        return str(response.json()["reference"])

    async def _form(self, base: str, i: int, address: str) -> str:
        async with httpx.AsyncClient(base_url=base, timeout=20) as browser:
            if i not in self.pages:
                page = await browser.get("/", headers={"X-Forwarded-For": address})
                assert page.status_code == 200
                self.pages[i] = (hidden_inputs(page.text), httpx.Cookies(browser.cookies))
            hidden, cookies = self.pages[i]
            browser.cookies = cookies
            response = await browser.post(
                "/quote",
                data={**hidden, **quote_form(email=patient(i))},
                headers={"X-Forwarded-For": address},
            )
        assert response.status_code == 303, response.text
        return response.headers["location"].rsplit("/", 1)[1]


def cli(args: list[str], env: dict[str, str], stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "service", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def log_lines(process: ServiceProcess, *, killed: bool) -> list[dict[str, object]]:
    """Every line a process wrote, as JSON: a killed process may have died mid-line."""
    lines = [line for line in process.output().splitlines() if line.strip()]
    if killed and lines and not lines[-1].endswith("}"):
        lines.pop()
    return [json.loads(line) for line in lines]


async def test_two_apps_and_two_workers_lose_nothing_when_one_of_each_is_killed(
    instances_database: str,
    redis_namespace: str,
    processes: StartProcess,
    smtp: SmtpServer,
) -> None:
    env = service_env(
        QUOTE_ENV="test",
        QUOTE_LOG_FORMAT="json",
        QUOTE_SECRET_KEY="instances-secret-" + "s" * 40,
        QUOTE_DATABASE_URL=instances_database,
        QUOTE_REDIS_URL=REDIS_URL,
        QUOTE_REDIS_NAMESPACE=redis_namespace,
        QUOTE_RATE_LIMIT=f"{RATE_LIMIT}/hour",
        QUOTE_TRUSTED_PROXIES="127.0.0.1",
        QUOTE_MIN_FILL_SECONDS="0",
        QUOTE_DEFAULT_FACILITATOR_EMAIL=FACILITATOR,
        QUOTE_MAIL_FROM="Quote Desk <quotes@quote-desk.example>",
        QUOTE_SMTP_HOST="127.0.0.1",
        QUOTE_SMTP_PORT=str(smtp.port),
        QUOTE_MAIL_POLL_SECONDS="0.5",
        QUOTE_MAIL_LEASE_SECONDS="5",  # a killed worker's emails are claimed again soon
        QUOTE_MAIL_RETRY_SCHEDULE="1s",
        QUOTE_METRICS_ALLOW="127.0.0.1",
    )
    cli(["db", "upgrade"], env)
    cli(["coordinator", "create", DESK_EMAIL, "--role", "admin"], env, stdin=DESK_PASSWORD + "\n")

    app_env = env | {"QUOTE_MAILER_ENABLED": "false"}
    ports = [free_port(), free_port()]
    apps = [processes(["run", "--port", str(port)], app_env, name="app") for port in ports]
    workers = [processes(["worker"], env, name="worker") for _ in range(2)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    for app, base in zip(apps, bases, strict=True):
        app.wait_until_serving(base, within=60)
    for worker in workers:
        worker.wait_for_output("mail worker started", within=60)

    # A few hundred quotes from CLIENTS at a time; one app and one worker die on the way.
    load = Load(apps=bases)
    started = time.monotonic()
    pending = iter(range(QUOTES))
    killed = False
    held: list[int] = []  # emails leased (by either worker) when one was killed

    async def client() -> None:
        nonlocal killed
        for i in pending:
            await load.quote(i)
            if not killed and len(load.acknowledged) >= KILL_AFTER:
                killed = True
                load.dead.add(bases[0])
                apps[0].kill()
                workers[0].kill()
                rows = await outbox_rows(instances_database)
                held.extend(row.id for row in rows if row.status == "sending")

    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(CLIENTS))), timeout=300)
    print(
        f"\n{len(load.acknowledged)} quotes acknowledged in {time.monotonic() - started:.1f} s, "
        f"{load.retried} sent again after a failure; {len(held)} emails were leased when "
        "one app and one worker were killed"
    )
    assert killed and len(load.acknowledged) == QUOTES

    # The killed app comes back on its port and serves with the others' shared state.
    apps[0] = processes(["run", "--port", str(ports[0])], app_env, name="app-restarted")
    apps[0].wait_until_serving(bases[0], within=60)
    load.dead.clear()

    # The rate limit holds across both apps: one address, all at once, alternating apps.
    async with httpx.AsyncClient(timeout=20) as http:
        limited = await asyncio.gather(
            *(
                http.post(
                    f"{bases[n % 2]}/api/v1/quotes",
                    json=quote_data(email=patient(QUOTES + n)),
                    headers={"X-Forwarded-For": "203.0.113.9"},
                )
                for n in range(BURST)
            )
        )
    codes = Counter(response.status_code for response in limited)
    assert codes == {201: RATE_LIMIT, 429: BURST - RATE_LIMIT}, codes
    references = set(load.acknowledged.values())
    references |= {r.json()["reference"] for r in limited if r.status_code == 201}

    # Every acknowledged quote is stored once, with its consents.
    leads = await stored_leads(instances_database)
    assert {lead.reference for lead in leads} == references
    assert len(leads) == len(references) == QUOTES + RATE_LIMIT
    assert all(len(lead.consents) == 3 for lead in leads)

    # Every email is delivered at least once: each lead's request and confirmation.
    deadline = time.monotonic() + 120
    while True:
        rows = await outbox_rows(instances_database)
        received = Counter(str(m.message["Message-ID"]) for m in smtp.inbox.messages)
        missing = {row.message_id for row in rows} - set(received)
        if not missing and all(row.status == "sent" for row in rows):
            break
        assert time.monotonic() < deadline, (
            f"{len(missing)} of {len(rows)} emails not delivered; statuses: "
            f"{Counter(row.status for row in rows)}"
        )
        await asyncio.sleep(0.5)
    assert len(rows) == 2 * len(leads)
    assert Counter(row.recipient for row in rows)[FACILITATOR] == len(leads)
    duplicates = sum(count - 1 for count in received.values())
    print(f"{len(rows)} emails delivered, {duplicates} delivered twice (at least once: allowed)")

    # A desk session begun on one app is good on the other (sessions live in Redis).
    async with httpx.AsyncClient(base_url=bases[1]) as desk:
        token = hidden_inputs((await desk.get("/desk/sign-in")).text)["_csrf_token"]
        signed_in = await desk.post(
            "/desk/sign-in",
            data={"_csrf_token": token, "email": DESK_EMAIL, "password": DESK_PASSWORD},
        )
        assert signed_in.status_code == 303
        async with httpx.AsyncClient(base_url=bases[0], cookies=desk.cookies) as elsewhere:
            other = await elsewhere.get("/desk/leads")
    assert other.status_code == 200
    assert any(reference in other.text for reference in references)

    # Operations see the same from either app: mail is moving, the backlog is empty.
    async with httpx.AsyncClient() as http:
        ready = (await http.get(f"{bases[0]}/readyz")).json()
        metrics = (await http.get(f"{bases[1]}/metrics")).text
    assert ready["status"] == "ok" and ready["outbox"]["pending"] == 0
    assert ready["mail_worker"]["silent_seconds"] < 30
    assert f'quote_leads{{status="new"}} {float(len(leads))}' in metrics
    assert 'quote_outbox_emails{status="pending"} 0.0' in metrics
    sent_attempts = next(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('quote_email_send_attempts_total{outcome="sent"}')
    )
    # The killed worker's last few attempts may not have reached its heartbeat.
    assert len(rows) - 2 * 20 <= sent_attempts <= len(rows) + duplicates

    # No log line, of any process, carries a patient's address or name, or a password.
    logged = "".join(process.output() for process in [*apps, *workers])
    for private in ("@example.org", "Peeters", DB_PASSWORD, DESK_PASSWORD):
        assert private not in logged, private
    routes = [e for p in apps for e in log_lines(p, killed=True) if "route" in e]
    assert {("POST", "/api/v1/quotes", 201), ("POST", "/quote", 303)} <= {
        (e["method"], e["route"], e["status"]) for e in routes
    }
    for process in workers:
        log_lines(process, killed=True)  # JSON, every line
    assert workers[1].running() and apps[1].running()
