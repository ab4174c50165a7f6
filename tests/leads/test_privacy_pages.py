"""The patient's privacy page through HTTP: what it shows, in their language; download,
withdrawal and erasure as form POSTs; links tampered with, expired, or replayed after erasure;
the fresh-link form; the notice; and hostile input on every route."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from service.app import create_app
from service.cli import main
from service.content.documents import legal_texts
from service.db import Database
from service.leads import privacy
from service.leads.fields import LEAD_FIELDS
from service.leads.translations import PRIVACY
from service.models import (
    Consent,
    Facilitator,
    LeadEvent,
    LeadResponse,
    OutboxMessage,
    ScheduledJob,
)
from service.schedule import schedule
from service.settings import Settings
from service.signing import sign
from tests.factories import (
    add_facilitators,
    every_value,
    fetch_all,
    hidden_inputs,
    outbox_rows,
    quote_form,
    stored_leads,
    submit_form,
)
from tests.smtp import Clock, MakeWorker, SmtpServer, mail_settings

PATIENT = "ana.peeters@example.org"
# Loggers of the test's own peers: the SMTP server standing in for the world, the HTTP client.
TEST_SIDE = {"mail.log", "httpx"}
FACILITATOR = {"name": "Brussels Stroke Care", "email": "quotes@brussels-care.example"}
# What identifies the patient or tells of their health, as the form below sends it.
PERSONAL = (
    "Ana Peeters",
    "ana.peeters",
    "+32470123456",
    "Left side weakness",
    "Spring 2027",
    "EUR 20,000",
    "testclient",  # the test client's address and browser, as the consent records keep them
)


@pytest.fixture
def settings(database_url: str, smtp: SmtpServer) -> Settings:
    return mail_settings(database_url, smtp)


@pytest.fixture
async def client(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as client:
        client.follow_redirects = False
        yield client


async def submit(client: AsyncTestClient, **overrides: Any) -> str:  # type: ignore[type-arg]
    """Send the form as a browser does; the path of the personal link in the confirmation."""
    response = await submit_form(client, quote_form(**overrides))
    assert response.status_code == 303
    return await personal_path(client)


async def personal_path(client: AsyncTestClient) -> str:  # type: ignore[type-arg]
    settings: Settings = client.app.state["settings"]
    rows = [r for r in await outbox_rows(settings.database_url) if r.kind == "patient_confirmation"]
    found = re.search(r"https://quotes\.example\.test(/privacy/[\w-]+\.[\w-]+)", rows[-1].text)
    assert found, "the confirmation carries the personal link"
    return found.group(1)


async def open_page(client: AsyncTestClient, path: str) -> tuple[Any, str]:  # type: ignore[type-arg]
    """The page and the CSRF token its forms carry."""
    page = await client.get(path)
    return page, hidden_inputs(page.text).get("_csrf_token", "")


def visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


async def verify_chain(settings: Settings) -> str:
    result = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["consent", "verify"],
        env={"QUOTE_DATABASE_URL": settings.database_url, "QUOTE_ENV": "test"},
    )
    assert result.exit_code == 0, result.output
    return result.output


async def test_the_page_shows_everything_stored_in_the_patients_language(
    client: AsyncTestClient, settings: Settings
) -> None:
    await add_facilitators(settings.database_url, FACILITATOR)
    path = await submit(client, language="fr", consent_marketing=True)
    (lead,) = await stored_leads(settings.database_url)

    page, _ = await open_page(client, path)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '<html lang="fr">' in page.text
    text = visible(page.text)
    t = PRIVACY["fr"]
    assert t["page_title"].format(reference=lead.reference) in text
    for value in (
        "Ana Peeters",
        PATIENT,
        "+32470123456",
        "Belgique",  # the country, in French
        "un membre de ma famille",
        "ischémique",
        "2025-03",
        "Left side weakness since the stroke; walking with a cane.",
        "Spring 2027",
        "EUR 20,000",
        "Brussels Stroke Care",
    ):
        assert value in text, value
    for legal in legal_texts().values():
        assert legal.label in text and legal.sha256 in text
    for kind in ("disclaimer", "health_data", "marketing"):
        assert re.search(rf"{t['kind_' + kind]} ?: {t['consent_granted']} —", text), kind
    assert "testclient" in text  # the address and browser each consent came from
    assert "Nous avons bien reçu votre demande" in text  # the confirmation sent to them
    assert t["marketing_button"] in text and t["erase_button"] in text


async def test_opening_the_page_changes_nothing(
    client: AsyncTestClient, settings: Settings
) -> None:
    """Mail scanners open links: a GET records nothing."""
    path = await submit(client)
    before = await every_value(settings.database_url)
    for _ in range(3):
        assert (await client.get(path)).status_code == 200
    assert await every_value(settings.database_url) == before


async def test_download_holds_the_pages_data_and_is_recorded(
    client: AsyncTestClient, settings: Settings
) -> None:
    path = await submit(client)
    _, token = await open_page(client, path)
    response = await client.post(f"{path}/download", data={"_csrf_token": token})
    assert response.status_code == 200
    (lead,) = await stored_leads(settings.database_url)
    assert response.headers["content-disposition"] == (
        f'attachment; filename="quote-request-{lead.reference}.json"'
    )
    assert response.headers["cache-control"] == "no-store"
    data = json.loads(response.content)
    assert data["reference"] == lead.reference
    assert data["fields"]["full_name"] == "Ana Peeters"
    assert data["fields"]["email"] == PATIENT
    assert data["fields"]["medical_summary"].startswith("Left side weakness")
    assert data["labels"]["medical_summary"] == "The patient's situation"
    consents = {c["kind"]: c for c in data["consents"]}
    for kind, legal in legal_texts().items():
        assert consents[kind]["text"]["sha256"] == legal.sha256
        assert consents[kind]["text"]["body"] == legal.body
    assert consents["marketing"]["granted"] is False
    assert [e["kind"] for e in data["emails"]] == ["patient_confirmation"]

    events = (await stored_leads(settings.database_url))[0].events
    assert [(e.kind, e.actor) for e in events][-1] == ("privacy_downloaded", "patient")


async def test_withdrawing_marketing_is_a_new_consent_record(
    client: AsyncTestClient, settings: Settings
) -> None:
    path = await submit(client, consent_marketing=True)
    _, token = await open_page(client, path)
    headers = {"user-agent": "Patient's phone"}
    response = await client.post(f"{path}/marketing", data={"_csrf_token": token}, headers=headers)
    assert response.status_code == 303
    assert response.headers["location"] == f"{path}?done=marketing"

    page = visible((await client.get(response.headers["location"])).text)
    t = PRIVACY["nl"]
    assert t["marketing_done"] in page and t["marketing_off"] in page
    assert t["marketing_button"] not in page and t["consent_withdrawn"] in page

    records = sorted(await fetch_all(settings.database_url, Consent), key=lambda c: c.id)
    withdrawal = records[-1]
    assert len(records) == 4
    assert (withdrawal.kind, withdrawal.granted) == ("marketing", False)
    assert withdrawal.legal_text_sha256 == legal_texts()["marketing"].sha256
    assert withdrawal.user_agent == "Patient's phone" and withdrawal.ip
    (lead,) = await stored_leads(settings.database_url)
    assert [e.kind for e in lead.events].count("marketing_withdrawn") == 1

    # Twice is once: nothing more to withdraw.
    again = await client.post(f"{path}/marketing", data={"_csrf_token": token})
    assert again.status_code == 303
    assert len(await fetch_all(settings.database_url, Consent)) == 4
    assert "4 record(s)" in await verify_chain(settings)


async def test_erasure_leaves_nothing_personal_and_keeps_the_proof(
    client: AsyncTestClient,
    settings: Settings,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    (facilitator,) = await add_facilitators(settings.database_url, FACILITATOR)
    path = await submit(client, language="de", consent_marketing=True)
    (lead,) = await stored_leads(settings.database_url)
    assert await make_worker().drain() == 2  # the request reached the facilitator
    # The facilitator answers through their own link, with a note about the patient.
    (request,) = smtp.inbox.to(facilitator.email)
    respond = re.search(r"https://quotes\.example\.test(/respond/\S+)", request.text)
    assert respond
    _, token = await open_page(client, respond.group(1))
    quoted = await client.post(
        respond.group(1),
        data={
            "_csrf_token": token,
            "action": "quoted",
            "price_min": "18000",
            "currency": "EUR",
            "note": "Ana Peeters walks with a cane; quoted by phone on +32470123456.",
        },
    )
    assert quoted.status_code == 303, quoted.text
    # What else the lead has: a coordinator's note, a fresh link still unsent, a reminder due.
    await _note_and_reminder(settings, lead.id, clock)
    _, token = await open_page(client, "/privacy/link")
    asked = await client.post("/privacy/link", data={"_csrf_token": token, "email": PATIENT})
    assert asked.status_code == 200

    _, token = await open_page(client, path)
    unconfirmed = await client.post(f"{path}/erase", data={"_csrf_token": token})
    assert unconfirmed.status_code == 400
    assert PRIVACY["de"]["erase_confirm_missing"] in unconfirmed.text
    assert (await stored_leads(settings.database_url))[0].erased_at is None

    erased = await client.post(f"{path}/erase", data={"_csrf_token": token, "confirm": "yes"})
    assert erased.status_code == 303 and erased.headers["location"] == path
    page = await client.get(path)
    assert page.status_code == 410
    assert PRIVACY["de"]["erased_title"] in page.text
    # The facilitator's own link now says so, and shows nothing of the request.
    gone = await client.get(respond.group(1))
    assert gone.status_code == 410 and "erased" in gone.text and "Ana" not in gone.text

    (lead,) = await stored_leads(settings.database_url)
    assert lead.erased_at is not None
    assert (lead.full_name, lead.email, lead.phone) == ("[erased]",) * 3
    assert (lead.medical_summary, lead.travel_window, lead.budget) == ("[erased]",) * 3
    assert (lead.treatment, lead.destination) == ("[erased]",) * 2
    assert (lead.stroke_type, lead.stroke_date, lead.patient_relation) == (None, None, None)
    # The proof: reference, dates, status, country, and every consent record.
    assert lead.reference.startswith("Q-") and lead.status == "quoted" and lead.country == "BE"
    consents = sorted(lead.consents, key=lambda c: c.id)
    assert [(c.kind, c.granted) for c in consents] == [
        ("disclaimer", True),
        ("health_data", True),
        ("marketing", True),
        ("health_data", False),  # the withdrawal
    ]
    assert all(c.ip is None and c.user_agent is None for c in consents)
    assert "4 record(s)" in await verify_chain(settings)

    events = {e.kind: e for e in lead.events}
    assert events["note"].data["text"] == "[erased]"
    assert events["erased"].actor == "patient"
    assert events["erased"].data == {
        "by": "patient",
        "emails_cancelled": 1,  # the fresh link, not sent yet
        "facilitators_told": ["Brussels Stroke Care"],
    }
    jobs = await fetch_all(settings.database_url, ScheduledJob)
    assert {j.key.split(":")[0] for j in jobs} == {"reminder", "remind", "deadline"}
    # Nothing left to do about the lead: the facilitator's reminder and deadline, and ours.
    assert {j.status for j in jobs} == {"done"} and "pending" not in {j.status for j in jobs}
    (response,) = await fetch_all(settings.database_url, LeadResponse)
    assert response.note == "[erased]" and response.price_min == 18000

    rows = {row.kind: row for row in await outbox_rows(settings.database_url)}
    for kind in ("facilitator_new_lead", "patient_confirmation", "privacy_link"):
        assert (rows[kind].subject, rows[kind].text, rows[kind].html) == ("[erased]",) * 3
    assert rows["privacy_link"].status == "cancelled"
    assert rows["patient_confirmation"].recipient == "[erased]"

    # The worker sends what the erasure queued: the facilitator is asked to delete the
    # request, the patient is told it is done (in German); then that address goes too.
    assert await make_worker().drain() == 2
    (notice,) = smtp.inbox.to(facilitator.email)[1:]
    assert notice.message["Subject"] == f"[{lead.reference}] Request withdrawn: please delete it"
    assert "Please delete this request and everything you hold about it" in notice.text
    confirmation, last = smtp.inbox.to(PATIENT)  # the fresh link was cancelled, never sent
    assert confirmation.message["Subject"].startswith("Wir haben Ihre Anfrage erhalten")
    assert last.message["Subject"] == f"Ihre Anfrage {lead.reference} wurde gelöscht"
    assert "Wie gewünscht haben wir die personenbezogenen Daten" in last.text
    for received in (notice, last):
        assert not any(p in received.text + received.html for p in PERSONAL[:1] + PERSONAL[2:])
        assert "https://quotes.example.test/privacy" in received.text

    left = await every_value(settings.database_url)
    for needle in PERSONAL:
        assert needle not in left, needle
    # Nor did anything personal reach the logs, at any step.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name not in TEST_SIDE)
    for needle in (*PERSONAL[:-1], "Peeters"):
        assert needle not in logged, needle


async def _note_and_reminder(settings: Settings, lead_id: uuid.UUID, clock: Clock) -> None:
    database = Database(settings)
    try:

        def add(session: Any) -> None:
            text = "Called Ana Peeters on +32470123456: she walks with a cane."
            session.add(
                LeadEvent(
                    lead_id=lead_id,
                    kind="note",
                    actor="coco@example.org",
                    data={"text": text},
                    created_at=clock(),
                )
            )
            schedule(
                session,
                kind="reminder",
                key=f"reminder:{lead_id}:1",
                due_at=clock() + timedelta(days=2),
                now=clock(),
            )

        await database.write(add)
    finally:
        await database.dispose()


async def test_replaying_a_link_after_erasure_changes_nothing(
    client: AsyncTestClient, settings: Settings
) -> None:
    path = await submit(client)
    _, token = await open_page(client, path)
    await client.post(f"{path}/erase", data={"_csrf_token": token, "confirm": "yes"})
    after = await every_value(settings.database_url)
    for action, data in (
        ("download", {}),
        ("marketing", {}),
        ("erase", {"confirm": "yes"}),
    ):
        response = await client.post(f"{path}/{action}", data={"_csrf_token": token, **data})
        assert response.status_code == 410, action
        assert "Ana" not in response.text
    assert await every_value(settings.database_url) == after


def _tampered(token: str) -> list[str]:
    body, _, mac = token.partition(".")
    other = sign(
        secret="another-secret-" + "x" * 40,
        purpose="privacy",
        subject=str(uuid.uuid4()),
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    return [
        f"{body}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",  # the signature
        f"{body[:-2]}AA.{mac}",  # the lead or the expiry
        body,  # no signature
        other,  # signed with another key
        f"{body}.{mac}x",
    ]


async def test_tampered_links_open_nothing(client: AsyncTestClient, settings: Settings) -> None:
    path = await submit(client)
    token = path.rsplit("/", 1)[1]
    missing_lead = sign(
        secret=settings.secret_key,
        purpose="privacy",
        subject=str(uuid.uuid4()),
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    respond = sign(
        secret=settings.secret_key,
        purpose="respond",  # a facilitator's link is not a patient's
        subject=path.split("/")[-1],
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    for bad in [*_tampered(token), missing_lead, respond]:
        page, csrf = await open_page(client, f"/privacy/{bad}")
        assert page.status_code == 404, bad
        assert PRIVACY["en"]["new_link_invalid"] in page.text
        assert "Ana" not in page.text and 'name="email"' in page.text  # the fresh-link form
        erased = await client.post(
            f"/privacy/{bad}/erase", data={"_csrf_token": csrf, "confirm": "yes"}
        )
        assert erased.status_code == 404
    assert (await stored_leads(settings.database_url))[0].erased_at is None


async def test_an_expired_link_offers_a_fresh_one(
    client: AsyncTestClient, settings: Settings, clock: Clock
) -> None:
    path = await submit(client, language="fr")
    assert (await client.get(path)).status_code == 200
    clock.advance(days=settings.privacy_link_days, seconds=1)

    page, token = await open_page(client, path)
    assert page.status_code == 410
    assert PRIVACY["fr"]["new_link_expired"] in page.text  # in the patient's language
    assert "Ana" not in page.text and PATIENT not in page.text
    erased = await client.post(f"{path}/erase", data={"_csrf_token": token, "confirm": "yes"})
    assert erased.status_code == 410
    assert (await stored_leads(settings.database_url))[0].erased_at is None

    # The fresh link mailed to the address on file opens the page again.
    sent = await client.post(
        "/privacy/link", data={"_csrf_token": token, "email": PATIENT, "lang": "fr"}
    )
    assert sent.status_code == 200 and PRIVACY["fr"]["new_link_sent"] in visible(sent.text)
    (row,) = [r for r in await outbox_rows(settings.database_url) if r.kind == "privacy_link"]
    assert row.recipient == PATIENT and row.subject == PRIVACY["fr"]["link_subject"]
    fresh = re.search(r"https://quotes\.example\.test(/privacy/\S+)", row.text)
    assert fresh and (await client.get(fresh.group(1))).status_code == 200


async def test_a_fresh_link_is_answered_the_same_whether_the_address_is_known_or_not(
    client: AsyncTestClient, settings: Settings
) -> None:
    await submit(client)
    answers = []
    for address in (PATIENT, "nobody@example.org"):
        _, token = await open_page(client, "/privacy/link")
        response = await client.post("/privacy/link", data={"_csrf_token": token, "email": address})
        answers.append((response.status_code, visible(response.text).replace(address, "")))
    assert answers[0] == answers[1]
    links = [r for r in await outbox_rows(settings.database_url) if r.kind == "privacy_link"]
    assert [r.recipient for r in links] == [PATIENT]

    _, token = await open_page(client, "/privacy/link")
    wrong = await client.post("/privacy/link", data={"_csrf_token": token, "email": "ana@"})
    assert wrong.status_code == 400
    assert PRIVACY["en"]["new_link_bad_address"] in wrong.text
    assert 'value="ana@"' in wrong.text


async def test_fresh_links_are_limited_per_ip(settings: Settings, clock: Clock) -> None:
    limited = settings.model_copy(update={"privacy_link_requests_per_hour": 2})
    async with AsyncTestClient(app=create_app(limited, clock=clock)) as client:
        _, token = await open_page(client, "/privacy/link")

        async def ask(address: str) -> int:
            response = await client.post(
                "/privacy/link", data={"_csrf_token": token, "email": address}
            )
            return response.status_code

        assert [await ask(PATIENT), await ask("nobody@example.org")] == [200, 200]
        # Known or not, the third request of the hour from this client is refused.
        assert [await ask(PATIENT), await ask("someone@example.org")] == [429, 429]
        _, token = await open_page(client, "/privacy/link")
        refused = await client.post("/privacy/link", data={"_csrf_token": token, "email": PATIENT})
        assert PRIVACY["en"]["new_link_too_many"] in visible(refused.text)
        clock.advance(hours=1, seconds=1)
        assert await ask("someone@example.org") == 200


async def test_fresh_links_are_limited_per_address_whatever_the_ip(
    settings: Settings, clock: Clock
) -> None:
    """Nobody can fill a patient's inbox with links by changing address."""
    limited = settings.model_copy(update={"privacy_link_requests_per_hour": 2})
    database = Database(limited)
    try:
        answers = [
            await database.write(
                privacy.request_fresh_link,
                address=address,
                ip=f"192.0.2.{n}",
                settings=limited,
                now=clock(),
            )
            for n, address in enumerate([PATIENT, PATIENT, PATIENT, "nobody@example.org"])
        ]
    finally:
        await database.dispose()
    assert answers == [True, True, False, True]


async def test_the_notice_says_who_what_for_how_long_and_to_whom(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    await add_facilitators(
        settings.database_url,
        {**FACILITATOR, "destinations": ["Belgium"], "country": " be "},
        {"name": "Antwerp Rehab", "email": "quotes@antwerp-rehab.example"},
        {"name": "Hidden Clinic", "email": "hidden@clinic.example"},
    )
    engine = create_async_engine(settings.database_url)
    async with engine.begin() as conn:
        await conn.execute(
            update(Facilitator).where(Facilitator.name == "Hidden Clinic").values(active=False)
        )
    await engine.dispose()
    configured = settings.model_copy(
        update={
            "controller_name": "Medical Tourism Magazine SRL",
            "controller_address": "Rue de la Loi 1, 1000 Brussels",
            "privacy_email": "privacy@mtm.example",
            "retention_days": 180,
            "retention_unclosed_days": 400,
        }
    )
    async with AsyncTestClient(app=create_app(configured)) as other:
        notice = visible((await other.get("/privacy")).text)
    for expected in (
        "Medical Tourism Magazine SRL, Rue de la Loi 1, 1000 Brussels",
        "write to privacy@mtm.example",
        "the country where the facilitator is established",
        "Brussels Stroke Care — Belgium (Belgium)",  # established in, then destinations
        "Antwerp Rehab — country not given (any destination)",
        "erased 180 days after its last change",
        "erased 400 days after it arrived",
        "valid 90 days",
        "GDPR Article 9(2)(a)",
    ):
        assert expected in notice, expected
    assert "Hidden Clinic" not in notice
    unset = visible((await client.get("/privacy")).text)
    assert "No automatic period is set" in unset and "reply to any email we sent you" in unset

    # Linked next to the consent boxes, and from every email.
    landing = (await client.get("/")).text
    consent_group = landing[landing.index("<legend>Consent</legend>") :]
    assert 'href="/privacy"' in consent_group[: consent_group.index("consent_disclaimer")]
    await submit(client)
    await make_worker().drain()
    assert len(smtp.inbox.messages) == 2
    for received in smtp.inbox.messages:
        assert "https://quotes.example.test/privacy" in received.text
        assert 'href="https://quotes.example.test/privacy"' in received.html


HOSTILE_PATHS = [
    "/privacy/%00",
    "/privacy/" + "A" * 10_000,
    "/privacy/%FF%FE.%C3%28",
    "/privacy/a.b",
    "/privacy/" + "9" * 300 + "." + "9" * 20,
    "/privacy/%2e%2e%2f%2e%2e",
]


async def test_hostile_input_gets_a_4xx_on_every_privacy_route(
    client: AsyncTestClient, settings: Settings
) -> None:
    path = await submit(client)
    _, token = await open_page(client, path)
    csrf = {"x-csrf-token": token}
    form = {**csrf, "content-type": "application/x-www-form-urlencoded"}
    requests: list[tuple[str, str, dict[str, Any]]] = [
        *[("GET", p, {}) for p in HOSTILE_PATHS],
        *[("POST", f"{p}/erase", {"headers": csrf}) for p in HOSTILE_PATHS],
        ("POST", "/privacy/link", {"headers": form, "content": b"email=%FF%FE%00"}),
        ("POST", "/privacy/link", {"headers": form, "content": b"email=\xff\xfe\x00&lang=\xff"}),
        ("POST", "/privacy/link", {"headers": csrf, "data": {"email": "a" * 100_000 + "@x.org"}}),
        ("POST", "/privacy/link", {"headers": csrf, "data": {"email": f"{PATIENT}\x00"}}),
        ("POST", "/privacy/link", {"headers": csrf, "data": {"email": "1" * 400}}),
        ("POST", "/privacy/link", {"data": {"email": PATIENT}}),  # no CSRF token
        ("PUT", path, {"headers": csrf}),
    ]
    for action in ("download", "marketing", "erase"):
        requests += [
            (
                "POST",
                f"{path}/{action}",
                {"headers": {**csrf, "content-type": kind}, "content": body},
            )
            for kind, body in (
                ("application/json", b'{"confirm": "yes"}'),
                ("text/plain", b"\x00\x01\x02"),
                ("application/xml", b"<confirm>yes</confirm>"),
            )
        ]
        requests.append(("POST", f"{path}/{action}", {"data": {"confirm": "yes"}}))  # no CSRF
    requests += [
        ("POST", f"{path}/erase", {"headers": form, "content": b"confirm=\xff\x00yes"}),
        ("POST", f"{path}/erase", {"headers": csrf, "data": {"confirm": "yes\x00"}}),
        ("POST", f"{path}/erase", {"headers": csrf, "data": {"confirm": "9" * 100_000}}),
    ]
    for method, url, options in requests:
        response = await client.request(method, url, **options)
        assert 400 <= response.status_code < 500, (method, url[:80], response.status_code)
    assert (await stored_leads(settings.database_url))[0].erased_at is None
    unchanged = await fetch_all(settings.database_url, OutboxMessage)
    assert [row.kind for row in unchanged] == ["alert_unrouted", "patient_confirmation"]


def test_every_language_has_every_privacy_sentence() -> None:
    english = PRIVACY["en"]
    assert set(PRIVACY) == {"en", "fr", "nl", "de"}
    for language, sentences in PRIVACY.items():
        assert set(sentences) == set(english), language
        for key, sentence in sentences.items():  # the same placeholders in every language
            assert re.findall(r"{\w+}", sentence) == re.findall(r"{\w+}", english[key]), key
        if language != "en":  # translated, not copied
            same = {k for k in english if sentences[k] == english[k]}
            assert same <= {"label_status", "label_full_name"}, (language, same)


def test_every_field_has_a_label_in_every_language() -> None:
    for language in PRIVACY:
        wording = privacy.wording(language)
        for field in LEAD_FIELDS:
            if not field.name.startswith("utm_"):  # campaign tags keep their technical names
                assert f"label_{field.name}" in wording, (language, field.name)
