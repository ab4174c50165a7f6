"""The benchmarks' SMTP server: a real aiosmtpd server in its own process that accepts every
message, optionally after a delay (a slow mail server), and logs each Message-ID it receives
so a benchmark can tell whether any email arrived twice.

Run: python -m bench.sink --port 2525 [--delay 2] [--log received.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
from pathlib import Path
from typing import Any, TextIO

from aiosmtpd.smtp import SMTP

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class Sink:
    def __init__(self, *, delay: float, log: TextIO | None) -> None:
        self.delay = delay
        self.log = log

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.log is not None:
            found = MESSAGE_ID.search(envelope.original_content or envelope.content)
            self.log.write((found.group(1).decode() if found else "<none>") + "\n")
            self.log.flush()
        return "250 OK"


async def serve(*, host: str, port: int, delay: float, log_path: Path | None) -> None:
    log = log_path.open("a") if log_path else None
    handler = Sink(delay=delay, log=log)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), host=host, port=port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    if log is not None:
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--log", type=Path, default=None, help="append each Message-ID here")
    args = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # it logs addresses at INFO
    asyncio.run(serve(host=args.host, port=args.port, delay=args.delay, log_path=args.log))


if __name__ == "__main__":
    main()
