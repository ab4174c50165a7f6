"""For contrast only: a submit that sends its email inside the request, the design the service
avoids. Its latency is the mail server's. Served by uvicorn beside the SMTP sink:
BENCH_SMTP_PORT=2525 uvicorn bench.inline_send:app"""

import os
from email.message import EmailMessage

import aiosmtplib
from litestar import Litestar, Request, get, post
from litestar.response import Redirect


@get("/")
async def index() -> str:
    return "ok"


@post("/quote")
async def quote(request: Request) -> Redirect:  # type: ignore[type-arg]
    form = await request.form()
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "q@localhost", "f@localhost", "Quote"
    message.set_content("\n".join(f"{k}: {v}" for k, v in form.items()))
    await aiosmtplib.send(message, hostname="127.0.0.1", port=int(os.environ["BENCH_SMTP_PORT"]))
    return Redirect("/thanks", status_code=303)


app = Litestar([index, quote])
