"""Emails to the operator (QUOTE_ALERT_EMAIL): the shape every alert shares, and the alert for an
email that was given up. Alerts never cause alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.mail.outbox import Failure, enqueue
from service.mail.render import Email, mailbox, render
from service.models import OutboxMessage
from service.settings import Settings

ALERT_DEAD_EMAIL = "alert_dead_email"
ALERT_PREFIX = "alert_"


def operator_alert(kind: str, *, context: dict[str, Any], settings: Settings) -> Email | None:
    """An alert rendered from `templates/emails/<kind>`; None when no ALERT_EMAIL is set."""
    if not settings.alert_email:
        return None
    return Email(
        kind=kind,
        to=mailbox(None, settings.alert_email),
        recipient=settings.alert_email,
        rendered=render(
            kind,
            directory=settings.mail_templates_dir,
            context={**context, "privacy_notice_url": settings.privacy_notice_url},
        ),
        headers={"Auto-Submitted": "auto-generated"},
    )


def queue_dead_email_alert(
    session: Session,
    *,
    message: OutboxMessage,
    failure: Failure,
    about: str | None,
    link: str | None,
    settings: Settings,
    now: datetime,
) -> None:
    """Tell the operator an email was given up. `about` and `link` name what the email was
    about (a lead's reference and its desk page), when anything."""
    if message.kind.startswith(ALERT_PREFIX):
        return
    context = {
        "reference": about,
        "email_kind": message.kind,
        "outbox_id": message.id,
        "attempts": message.attempts,
        "code": failure.code,
        "error": failure.text,
        "desk_url": link,
    }
    alert = operator_alert(ALERT_DEAD_EMAIL, context=context, settings=settings)
    if alert is not None:
        # Under the same lead, so a coordinator sees on its page that the operator was told.
        enqueue(session=session, email=alert, lead_id=message.lead_id, settings=settings, now=now)
