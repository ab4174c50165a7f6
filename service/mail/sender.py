"""Sending over SMTP with aiosmtplib, one connection per batch, failures as two error types.

`TransientSendError`: try again later (4xx, timeouts, refused or dropped connections, and
problems of the connection itself such as a failed login, which no single message causes).
`PermanentSendError`: this message will never be accepted (a 5xx answer to MAIL, RCPT or DATA,
except a 530 that refuses the whole session).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import aiosmtplib

from service.settings import Settings


class SendError(Exception):
    def __init__(self, code: int | None, text: str) -> None:
        super().__init__(f"{code} {text}" if code else text)
        self.code = code
        self.text = text


class TransientSendError(SendError):
    """The message may be accepted later."""


class PermanentSendError(SendError):
    """The server refused this message for good."""


# 530 refuses the session, not the message ("authentication required", "must issue a
# STARTTLS command first"): our configuration is wrong, and every email would die of it.
SESSION_REFUSALS = frozenset({530})


def _by_code(code: int, text: str) -> SendError:
    if 500 <= code < 600 and code not in SESSION_REFUSALS:
        return PermanentSendError(code, text)
    return TransientSendError(code, text)


class Connection:
    """An open SMTP session; `send` raises a SendError for this one message."""

    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self._client = client

    @property
    def connected(self) -> bool:
        """False once the server closed the connection (or a timeout made us close it)."""
        return self._client.is_connected

    async def send(self, message: bytes, *, sender: str, recipients: Sequence[str]) -> None:
        """Send `message` (`render.compose`) to the envelope given, never to its headers."""
        # A non-ASCII address, in the envelope or a header, needs the server's SMTPUTF8.
        utf8 = not (message.isascii() and sender.isascii() and all(map(str.isascii, recipients)))
        try:
            refused, _ = await self._client.sendmail(
                sender, list(recipients), message, mail_options=["SMTPUTF8"] if utf8 else []
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            raise _by_code(first.code, first.message) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code, exc.message) from exc
        except aiosmtplib.SMTPNotSupported as exc:
            # The message needs an extension the server lacks (SMTPUTF8 for a non-ASCII
            # address): waiting will not change that.
            raise PermanentSendError(None, _describe(exc)) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransientSendError(None, _describe(exc)) from exc
        if refused:
            # Some recipients refused, others accepted: aiosmtplib returns instead of raising.
            response = next(iter(refused.values()))
            raise _by_code(response.code, response.message)

    async def probe(self, *, sender: str) -> None:
        """Ask whether the server would take mail from `sender` (MAIL FROM, then RSET): the
        session is usable, and nothing is sent."""
        try:
            await self._client.mail(sender)
            await self._client.rset()
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransientSendError(None, _describe(exc)) from exc


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class SmtpSender:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: str = "none",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.username, self.password, self.timeout = username, password, timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSender:
        if not settings.smtp_host:
            raise ValueError("QUOTE_SMTP_HOST is not set: there is no mail server to send to")
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout,
        )

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        """Connect (TLS and login as configured); any failure here is transient."""
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.tls == "tls",
            # False, not None: None would upgrade opportunistically even when told "none".
            start_tls=self.tls == "starttls",
            username=self.username or None,
            password=self.password if self.username else None,
            timeout=self.timeout,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            code = exc.code if isinstance(exc, aiosmtplib.SMTPResponseException) else None
            raise TransientSendError(code, _describe(exc)) from exc
        try:
            yield Connection(client)
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
            client.close()
