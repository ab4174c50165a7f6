"""The development SMTP sink: a local aiosmtpd server that saves every message it receives as
an `.eml` file (under `var/mail/`), so the real SMTP path runs without a real mail server."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
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


@dataclass(frozen=True, slots=True)
class Captured:
    """One message the sink saved: its file name, and what a reader scans a list by."""

    name: str
    subject: str
    to: str
    date: str
    source: str = ""


_EML_NAME = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9]{6}-[0-9]+\.eml")


def captured_messages(directory: Path, *, limit: int = 200) -> list[Captured]:
    """The newest messages the sink saved, newest first (only its own file names are read)."""
    if not directory.is_dir():
        return []
    names = sorted(
        (p.name for p in directory.iterdir() if _EML_NAME.fullmatch(p.name)), reverse=True
    )
    return [_read(directory / name) for name in names[:limit]]


def captured_message(directory: Path, name: str) -> Captured | None:
    """One saved message with its whole source, or None for any other name (no path escapes)."""
    path = directory / name
    if not _EML_NAME.fullmatch(name) or not path.is_file():
        return None
    return _read(path, with_source=True)


def _read(path: Path, *, with_source: bool = False) -> Captured:
    raw = path.read_bytes()
    message = message_from_bytes(raw, policy=policy.default)
    return Captured(
        name=path.name,
        subject=str(message.get("Subject", "")),
        to=str(message.get("To", "")),
        date=str(message.get("Date", "")),
        source=raw.decode("utf-8", errors="replace") if with_source else "",
    )
