"""An SMTP server in a process of its own for the fault tests: it accepts every message and
appends one JSON line per message (arrival time, Message-ID, envelope recipients) to a file.

In its own process so that its answers do not wait for the test's load generator (one
interpreter lock), and so that stopping it is what a mail server outage is: a process gone.
Run: python tests/faults/smtp_sink.py PORT FILE
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP


class Recorder:
    def __init__(self, path: Path) -> None:
        self.file = path.open("a", encoding="utf-8")

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = BytesHeaderParser().parsebytes(envelope.original_content)
        line = {
            "at": time.time(),
            "message_id": str(headers["Message-ID"]),
            "recipients": list(envelope.rcpt_tos),
        }
        # One write of a whole line, flushed before the 250: a line read is a message accepted.
        self.file.write(json.dumps(line) + "\n")
        self.file.flush()
        return "250 Message accepted for delivery"


async def serve(port: int, path: Path) -> None:
    recorder = Recorder(path)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(recorder, hostname="sink.faults.example"), "127.0.0.1", port
    )
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), Path(sys.argv[2])))
