"""The mail log and one email as it was queued."""

from __future__ import annotations

from pathlib import Path

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.desk.controllers.web import AnyRequest, page
from service.desk.mail_log import MAIL_STATUSES, get_message, list_messages, mail_counts
from service.edge import as_id
from service.errors import NotFound
from service.mail.devsink import captured_message, captured_messages
from service.settings import Env, Settings

EMAIL_HTML_HEADERS = {
    "Content-Security-Policy": (
        "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}


def _sink_directory(settings: Settings) -> Path:
    """Where `quote-desk run` keeps the development sink's messages; none outside development."""
    if settings.env is not Env.development:
        raise NotFound
    return settings.var_dir / "mail"


class DeskMail(Controller):
    include_in_schema = False

    @get("/mail/sink", name="desk:mail:sink", cache=False)
    async def sink(self, request: AnyRequest, settings: NamedDependency[Settings]) -> Template:
        directory = _sink_directory(settings)
        return page(request, "mail_sink.html", messages=captured_messages(directory))

    @get("/mail/sink/{file_name:str}", name="desk:mail:sink:message", cache=False)
    async def sink_message(
        self, request: AnyRequest, settings: NamedDependency[Settings], file_name: FromPath[str]
    ) -> Template:
        message = captured_message(_sink_directory(settings), file_name)
        if message is None:
            raise NotFound("No such message in the sink.")
        return page(request, "mail_sink_message.html", message=message)

    @get("/mail", name="desk:mail", cache=False)
    async def mail(
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        status = request.query_params.get("status", "")
        before = request.query_params.get("before", "")
        result = await list_messages(session=session, status=status, before=as_id(before))
        return page(
            request,
            "mail.html",
            page=result,
            status=status,
            statuses=MAIL_STATUSES,
            counts=await mail_counts(session=session),
            development=settings.env is Env.development,
        )

    @get("/mail/{outbox_id:int}", name="desk:mail:message", cache=False)
    async def message(
        self, request: AnyRequest, session: NamedDependency[AsyncSession], outbox_id: FromPath[int]
    ) -> Template:
        message = await get_message(session=session, outbox_id=outbox_id)
        return page(request, "mail_message.html", message=message)

    @get("/mail/{outbox_id:int}/html", name="desk:mail:html", cache=False)
    async def message_html(
        self, session: NamedDependency[AsyncSession], outbox_id: FromPath[int]
    ) -> Response[str]:
        message = await get_message(session=session, outbox_id=outbox_id)
        # Shown inside the message page's sandboxed iframe: no scripts, no remote content,
        # only the email's own inline styles, and framed by the desk alone.
        return Response(message.html, media_type="text/html", headers=EMAIL_HTML_HEADERS)
