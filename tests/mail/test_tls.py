"""QUOTE_SMTP_TLS against a real server with a certificate the client trusts: STARTTLS on a
plain port, and TLS from the first byte."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from service.mail.sender import SmtpSender, TransientSendError
from tests.mail.test_sender import a_message
from tests.smtp import StartSmtp

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def server_context(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> ssl.SSLContext:
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this certificate only
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_starttls(start_smtp: StartSmtp, server_context: ssl.SSLContext) -> None:
    server = start_smtp(tls_context=server_context, require_starttls=True)
    sender = SmtpSender(host="127.0.0.1", port=server.port, tls="starttls")
    async with sender.connect() as connection:
        await connection.send(a_message(), sender="a@example.org", recipients=["b@example.org"])
    assert len(server.inbox.messages) == 1

    plain = SmtpSender(host="127.0.0.1", port=server.port, tls="none")
    async with plain.connect() as connection:  # the server insists on STARTTLS first
        with pytest.raises(TransientSendError) as refused:  # configuration: retried, not dead
            await connection.send(a_message(), sender="a@example.org", recipients=["b@example.org"])
    assert refused.value.code == 530


async def test_implicit_tls(start_smtp: StartSmtp, server_context: ssl.SSLContext) -> None:
    server = start_smtp(ssl_context=server_context)
    sender = SmtpSender(host="127.0.0.1", port=server.port, tls="tls", timeout=5)
    async with sender.connect() as connection:
        await connection.send(a_message(), sender="a@example.org", recipients=["b@example.org"])
    assert len(server.inbox.messages) == 1
