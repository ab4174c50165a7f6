"""The development SMTP sink: a local aiosmtpd server that saves every message it receives as
an `.eml` file (under `var/mail/`), so the real SMTP path runs without a real mail server."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

logger = logging.getLogger("service.mail")


class EmlFolder:
    """aiosmtpd handler: one `.eml` file per message, named by arrival time, envelope on top."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._numbers = count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        path = self.directory / f"{stamp}-{next(self._numbers)}.eml"
        # Added lines, not part of the message: who the envelope said it was from and for.
        envelope_lines = (
            f"X-Sink-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Sink-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        await asyncio.to_thread(self._write, path, envelope_lines + content)
        logger.info("dev sink saved %s", path.name)
        return "250 Message accepted for delivery"

    def _write(self, path: Path, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def start_dev_sink(*, directory: Path, host: str = "127.0.0.1", port: int = 8025) -> Controller:
    """Start the sink in its own thread; call `.stop()` on the result to end it."""
    # aiosmtpd logs every SMTP command at INFO, addresses included: keep those out of logs.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(EmlFolder(directory), hostname=host, port=port)
    controller.start()
    return controller
