"""The emails a lead causes, as a real SMTP server receives them: addressing, headers, both
parts, the patient's language, and no way for a form value to add a header or a recipient."""

from __future__ import annotations

import re
from email.utils import getaddresses

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from service.content.documents import legal_texts
from service.db import Database
from service.leads.notifications import patient_confirmation, queue_facilitator_email
from service.mail.outbox import enqueue
from service.models import Facilitator, Lead
from service.settings import Settings
from tests.factories import (
    add_facilitators,
    outbox_rows,
    quote_data,
    quote_form,
    stored_leads,
    submit_form,
)
from tests.smtp import ALERT_EMAIL, MAIL_FROM, Clock, MakeWorker, SmtpServer, mail_settings


@pytest.fixture
def settings(database_url: str, smtp: SmtpServer) -> Settings:
    """The app and the workers talk to the `smtp` server."""
    return mail_settings(database_url, smtp)


FACILITATOR = {
    "name": "Brussels Stroke Care",
    "email": "quotes@brussels-care.example",
    "languages": ["nl", "fr"],
}


def addresses(value: str | None) -> list[str]:
    return [address for _, address in getaddresses([value or ""])]


async def test_a_submit_delivers_both_emails(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    (facilitator,) = await add_facilitators(settings.database_url, FACILITATOR)
    form = quote_form(utm_source="newsletter", utm_campaign="stroke-2026")
    response = await submit_form(client, form)
    assert response.status_code == 303

    assert await make_worker().drain() == 2
    (lead,) = await stored_leads(settings.database_url)
    to_facilitator, to_patient = smtp.inbox.to(facilitator.email), smtp.inbox.to(lead.email)
    assert len(to_facilitator) == 1 and len(to_patient) == 1 and len(smtp.inbox.messages) == 2

    rows = {row.kind: row for row in await outbox_rows(settings.database_url)}
    for received, row in (
        (to_facilitator[0], rows["facilitator_new_lead"]),
        (to_patient[0], rows["patient_confirmation"]),
    ):
        message = received.message
        assert received.mail_from == "quotes@quote-desk.test"
        assert message["From"] == MAIL_FROM
        assert message["Message-ID"] == row.message_id and row.status == "sent"
        assert message["Date"]
        assert message.get_content_type() == "multipart/alternative"
        parts = [part.get_content_type() for part in message.iter_parts()]
        assert parts == ["text/plain", "text/html"]

    # The facilitator's email: everything needed to answer, and Reply goes to the patient.
    message = to_facilitator[0].message
    assert to_facilitator[0].rcpt_tos == [facilitator.email]
    assert addresses(message["To"]) == [facilitator.email]
    assert addresses(message["Reply-To"]) == ["ana.peeters@example.org"]
    subject = message["Subject"]
    for expected in (
        lead.reference,
        "Stem cell therapy for stroke rehabilitation",
        "Belgium",
        "Ana",
    ):
        assert expected in subject
    assert "Peeters" not in subject
    text, html = to_facilitator[0].text, to_facilitator[0].html
    for body in (text, html):
        for value in (
            "Ana Peeters",
            "ana.peeters@example.org",
            "+32470123456",
            "Belgium (BE)",
            "Nederlands",
            "A family member",
            "Ischemic",
            "2025-03",
            "Left side weakness since the stroke; walking with a cane.",
            "Spring 2027",
            "EUR 20,000",
            "newsletter",
            "stroke-2026",
            "the quote form",
            f"https://quotes.example.test/desk/leads/{lead.id}",
        ):
            assert value in body, value
        for kind, legal in legal_texts().items():
            assert f"version {legal.version}, {kind}" in body
    assert "Given (version" in text and "Not given (version" in text  # marketing unticked

    # The patient's confirmation, in Dutch: who contacts them and by when, and their rights.
    message = to_patient[0].message
    assert to_patient[0].rcpt_tos == ["ana.peeters@example.org"]
    assert addresses(message["To"]) == ["ana.peeters@example.org"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "nl"
    assert message["Subject"] == f"We hebben uw aanvraag ontvangen ({lead.reference})"
    for body in (to_patient[0].text, to_patient[0].html):
        assert "Beste Ana Peeters," in body and lead.reference in body
        assert "Brussels Stroke Care" in body and "binnen 48 uur per e-mail" in body
        # How to see, download, withdraw or erase: the personal page, by its link.
        assert "Op uw persoonlijke pagina kunt u alles" in body
        assert re.search(r"https://quotes\.example\.test/privacy/[\w-]+\.[\w-]+", body)
        assert "vervangt geen professioneel medisch advies" in body  # the disclaimer
        assert "België" in body and "Spring 2027" in body
    assert 'lang="nl"' in to_patient[0].html

    events = [event.kind for event in lead.events]
    assert events[:2] == ["created", "routed"]
    assert events.count("email_sent") == 2


@pytest.mark.parametrize(
    ("language", "subject", "sentence"),
    [
        ("en", "We have received your request", "within 48 hours"),
        ("fr", "Nous avons bien reçu votre demande", "dans les 48 heures"),
        ("de", "Wir haben Ihre Anfrage erhalten", "innerhalb von 48 Stunden"),
    ],
)
async def test_patient_confirmation_speaks_the_patients_language(
    client: AsyncTestClient,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    language: str,
    subject: str,
    sentence: str,
) -> None:
    response = await client.post("/api/v1/quotes", json=quote_data(language=language))
    assert response.status_code == 201
    await make_worker().drain()
    (received,) = smtp.inbox.to("ana.peeters@example.org")
    assert received.message["Subject"].startswith(subject)
    assert received.message["Content-Language"] == language
    assert sentence in received.text and sentence in received.html


async def test_no_form_value_adds_a_header_or_a_recipient(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    await add_facilitators(settings.database_url, FACILITATOR)
    # Line breaks are refused at the door, by the API and the form alike...
    for field, value in (
        ("full_name", "Ana\r\nBcc: evil@attacker.example"),
        ("email", "ana@example.org\r\nBcc: evil@attacker.example"),
        ("email", "ana@example.org, evil@attacker.example"),
        ("treatment", "Stem cells\nBcc: evil@attacker.example"),
    ):
        assert (
            await client.post("/api/v1/quotes", json=quote_data(**{field: value}))
        ).status_code == 422
        assert (await submit_form(client, quote_form(**{field: value}))).status_code == 400
    assert await outbox_rows(settings.database_url) == []

    # ...and what is allowed (commas, angle brackets, a fake address in a name) stays text.
    sneaky = quote_data(
        full_name='Doe, John <evil@attacker.example>, "x" <evil2@attacker.example>',
        budget="Bcc: evil@attacker.example, to: evil3@attacker.example",
        medical_summary="Line one\r\nBcc: evil@attacker.example\r\n\r\n<b>bold</b>",
    )
    assert (await client.post("/api/v1/quotes", json=sneaky)).status_code == 201

    # Even values that skipped validation (a row edited in the database) cannot escape.
    (lead,) = await stored_leads(settings.database_url)
    database = Database(settings)
    try:

        def tamper_and_enqueue(session: Session) -> None:
            session.execute(
                update(Lead).values(
                    full_name="Eve\r\nBcc: evil4@attacker.example",
                    treatment="Stem cells\r\nX-Injected: yes",
                )
            )
            stored = session.get(Lead, lead.id, populate_existing=True)
            assert stored is not None
            facilitator = session.get(Facilitator, stored.facilitator_id)
            assert facilitator is not None
            now = Clock()()
            queue_facilitator_email(
                session=session, lead=stored, facilitator=facilitator, settings=settings, now=now
            )
            email = patient_confirmation(
                lead=stored, facilitator=facilitator, settings=settings, now=now
            )
            enqueue(session=session, email=email, lead_id=stored.id, settings=settings, now=now)

        await database.write(tamper_and_enqueue)
    finally:
        await database.dispose()

    assert await make_worker().drain() == 4
    assert len(smtp.inbox.messages) == 4
    for received in smtp.inbox.messages:
        assert received.rcpt_tos in (["quotes@brussels-care.example"], ["ana.peeters@example.org"])
        message = received.message
        assert "Bcc" not in message and "X-Injected" not in message and "Cc" not in message
        assert len(addresses(message["To"])) == 1
        if message["Reply-To"]:
            assert addresses(message["Reply-To"]) == ["ana.peeters@example.org"]
        assert "evil" not in " ".join(addresses(message["To"]) + addresses(message["Reply-To"]))
        assert "\n" not in str(message["Subject"]).replace("\n ", "")
    assert not any(ALERT_EMAIL in m.rcpt_tos for m in smtp.inbox.messages)


async def test_html_is_escaped_in_the_html_part_and_plain_in_the_text(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    await add_facilitators(settings.database_url, FACILITATOR)
    script = '<script>alert("x")</script>'
    data = quote_data(medical_summary=f"Walks with a cane {script}", travel_window="<i>soon</i>")
    assert (await client.post("/api/v1/quotes", json=data)).status_code == 201
    await make_worker().drain()
    assert len(smtp.inbox.messages) == 2
    for received in smtp.inbox.messages:
        assert "<script" not in received.html and "<i>soon" not in received.html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in received.html
        assert "&lt;i&gt;soon&lt;/i&gt;" in received.html
        assert script in received.text and "<i>soon</i>" in received.text
        assert not re.search(r"&(lt|gt|amp|#34);", received.text)


async def test_the_longest_values_a_form_accepts_still_make_an_email(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    await add_facilitators(settings.database_url, FACILITATOR)
    # (The lead's destination column holds 120 characters, though the form accepts 200.)
    data = quote_data(full_name="N" * 120, treatment="T" * 200, destination="D" * 120)
    assert (await client.post("/api/v1/quotes", json=data)).status_code == 201
    assert await make_worker().drain() == 2
    (received,) = smtp.inbox.to(FACILITATOR["email"])
    assert "N" * 120 in received.text and len(received.message["Subject"]) <= 500
