"""The SMTP sender against a real server: login, and refusals turned into error types."""

from __future__ import annotations

from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from service.mail.render import compose
from service.mail.sender import PermanentSendError, SmtpSender, TransientSendError
from tests.smtp import Inbox, StartSmtp, free_port


def a_message() -> Any:
    return compose(
        subject="Hello",
        text="text",
        html="<p>html</p>",
        headers={"From": "a@example.org", "To": "b@example.org", "Message-ID": "<1@example.org>"},
    )


def accept(user: str, password: str) -> Any:
    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok)

    return authenticator


# A local test server: login without TLS is what this test exercises, on loopback only.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_logs_in_when_a_username_is_set(start_smtp: StartSmtp) -> None:
    server = start_smtp(
        authenticator=accept("mailer", "s3cret"), auth_required=True, auth_require_tls=False
    )
    sender = SmtpSender(host="127.0.0.1", port=server.port, username="mailer", password="s3cret")
    async with sender.connect() as connection:
        await connection.send(a_message(), sender="a@example.org", recipients=["b@example.org"])
    assert [m.rcpt_tos for m in server.inbox.messages] == [["b@example.org"]]


async def test_the_envelope_is_what_is_passed_not_the_headers(start_smtp: StartSmtp) -> None:
    server = start_smtp()
    async with SmtpSender(host="127.0.0.1", port=server.port).connect() as connection:
        await connection.send(
            a_message(), sender="bounce@example.org", recipients=["c@example.org"]
        )
    (received,) = server.inbox.messages
    assert received.mail_from == "bounce@example.org" and received.rcpt_tos == ["c@example.org"]


@pytest.mark.parametrize(
    ("reply", "error"),
    [("550 5.1.1 Unknown", PermanentSendError), ("452 4.2.2 Mailbox full", TransientSendError)],
)
async def test_a_partial_refusal_is_an_error_too(
    start_smtp: StartSmtp, reply: str, error: type[Exception]
) -> None:
    # aiosmtplib returns (not raises) when only some recipients are refused.
    server = start_smtp(Inbox(refuse={"refused@example.org": reply}.get))
    async with SmtpSender(host="127.0.0.1", port=server.port).connect() as connection:
        with pytest.raises(error) as failure:
            await connection.send(
                a_message(),
                sender="a@example.org",
                recipients=["ok@example.org", "refused@example.org"],
            )
    assert failure.value.code == int(reply[:3])  # type: ignore[attr-defined]


async def test_nobody_listening_is_transient() -> None:
    with pytest.raises(TransientSendError) as failure:
        async with SmtpSender(host="127.0.0.1", port=free_port(), timeout=1).connect():
            pass
    assert failure.value.code is None
