"""The development sink saves each message it receives as an .eml file."""

from __future__ import annotations

import asyncio
from email import message_from_bytes, policy
from pathlib import Path

from service.mail.devsink import start_dev_sink
from service.mail.render import compose
from service.mail.sender import SmtpSender
from tests.smtp import free_port


async def test_each_message_becomes_an_eml_file(tmp_path: Path) -> None:
    port = free_port()
    sink = start_dev_sink(directory=tmp_path / "mail", port=port)
    try:
        message = compose(
            subject="Hallo",
            text="Beste Ana",
            html="<p>Beste Ana</p>",
            headers={"From": "q@example.org", "To": "Ana <ana@example.org>"},
        )
        async with SmtpSender(host="127.0.0.1", port=port).connect() as connection:
            await connection.send(message, sender="q@example.org", recipients=["ana@example.org"])
    finally:
        await asyncio.to_thread(sink.stop)
    (saved,) = (tmp_path / "mail").glob("*.eml")
    parsed = message_from_bytes(saved.read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Hallo" and parsed["X-Sink-Envelope-To"] == "ana@example.org"
    assert parsed.get_body(("plain",)).get_content().strip() == "Beste Ana"  # type: ignore[union-attr]
