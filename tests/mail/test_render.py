"""Templates: the subject comes from the template, every language is complete, and the retry
schedule setting reads as an operator writes it; a stored email becomes the message a reader
receives."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.leads.translations import PATIENT_CONFIRMATION
from service.mail.render import compose, render
from service.mail.sender import SmtpSender
from service.settings import ROOT, parse_durations
from tests.smtp import StartSmtp

EMAILS = ROOT / "templates" / "emails"


def test_every_language_has_every_sentence() -> None:
    english = set(PATIENT_CONFIRMATION["en"])
    assert set(PATIENT_CONFIRMATION) == {"en", "fr", "nl", "de"}
    for language, sentences in PATIENT_CONFIRMATION.items():
        assert set(sentences) == english, language
        if language != "en":  # translated, not copied
            same = {k for k in english if sentences[k] == PATIENT_CONFIRMATION["en"][k]}
            assert same <= {"label_budget", "label_destination", "label_contact_method"}, same


def test_subject_is_the_templates_subject_block_on_one_line() -> None:
    rendered = render(
        "alert_unrouted",
        directory=EMAILS,
        context={
            "reference": "Q-ABC\r\nBcc: x@y",
            "reason": "none",
            "desk_url": "https://x",
            "privacy_notice_url": "https://x/privacy",
        },
    )
    assert rendered.subject == "[Quote Desk] Lead Q-ABC Bcc: x@y has no facilitator"
    assert "Why: none" in rendered.text and "<p>" in rendered.html


def test_a_subject_is_cut_to_what_the_outbox_stores() -> None:
    context = {
        "reference": "R" * 600,
        "reason": "none",
        "desk_url": "https://x",
        "privacy_notice_url": "https://x/privacy",
    }
    subject = render("alert_unrouted", directory=EMAILS, context=context).subject
    assert len(subject) == 500 and subject.endswith("…")


def test_retry_schedule_reads_like_durations() -> None:
    assert parse_durations("30s, 5m,1h,2d") == (
        timedelta(seconds=30),
        timedelta(minutes=5),
        timedelta(hours=1),
        timedelta(days=2),
    )
    with pytest.raises(ValueError, match="QUOTE_MAIL_RETRY_SCHEDULE"):
        parse_durations("5 minutes")


async def test_a_composed_email_arrives_as_it_was_written(start_smtp: StartSmtp) -> None:
    """Accents in the subject and the names, a line that starts with a dot, trailing spaces,
    long lines, and what looks like a MIME boundary all reach the reader unchanged, through a
    server that takes only 7-bit headers (no SMTPUTF8: only an address needs it)."""
    server = start_smtp(enable_SMTPUTF8=False)
    text = "Bonjour Zoë,\r\n.\n  indented, trailing  \n--=_x\n" + "é" * 300 + "\n"
    html = "<p>Zoë «&nbsp;Müller&nbsp;»</p>\n<p>" + "x" * 500 + "</p>\n"
    subject = "Demande de devis — thérapie « cellules souches » " * 4
    headers = {
        "From": "Quote Desk <quotes@example.org>",
        "To": "Zoë <zoe@example.org>",
        "Cc": '"Rehab, Inc. (Antwerp)" <desk@rehab.example>',
        "Reply-To": "Zoë Ünal-Müller de la Fontaine-Beaumarchais <zoe@example.org>",
        "Message-ID": "<1.quote@example.org>",
        "Content-Language": "fr",
    }
    message = compose(subject=subject, text=text, html=html, headers=headers)
    async with SmtpSender(host="127.0.0.1", port=server.port).connect() as connection:
        await connection.send(message, sender="quotes@example.org", recipients=["zoe@example.org"])

    (received,) = server.inbox.messages
    assert received.message["Subject"] == subject
    for name, value in headers.items():
        assert received.message[name] == value
    assert received.text == text.replace("\r\n", "\n").replace("\n", "\r\n")
    assert received.html == html.replace("\n", "\r\n")


def test_a_line_break_in_a_header_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        compose(subject="Hi\r\nBcc: x@y.example", text="", html="", headers={})
