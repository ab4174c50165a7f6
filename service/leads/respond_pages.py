"""The facilitator's answer page, `/respond/{token}`: the request as their email shows it and the
answers still to give. A GET only reads (mail scanners open every link); each answer is a POST
with the CSRF token and comes back to the page, which says what is recorded. A link for a lead
that moved on, was erased or closed says so and offers nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import Database
from service.errors import NotFound, Refused
from service.leads import messages
from service.leads.assignments import Link, read_link
from service.leads.notifications import request_context
from service.leads.responses import (
    CURRENCIES,
    DECLINE_REASONS,
    AnswerErrors,
    ResponseAction,
    Turn,
    TurnState,
    find_turn,
    read_answer,
    respond,
)
from service.settings import Settings
from service.signing import BadToken

AnyRequest = Request[Any, Any, Any]
# A personal link's page is for its facilitator only: never cached, never indexed.
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
FORM_FIELDS = ("action", "reason", "price_min", "price_max", "currency", "note")
MAX_FIELD = 10_000  # far above any field's limit; beyond it the form is not a browser's
STATUS = {
    TurnState.open: 200,
    TurnState.declined: 200,
    TurnState.closed: 200,
    TurnState.moved: 410,
    TurnState.erased: 410,
}


class BadForm(Exception):
    """A body that is not a form a browser sends (wrong type, not UTF-8)."""

    def __init__(self, status_code: int) -> None:
        super().__init__(status_code)
        self.status_code = status_code


def _link(token: str, settings: Settings) -> Link:
    try:
        return read_link(token, settings=settings)
    except BadToken:
        raise NotFound(messages.RESPOND_BAD_LINK) from None


async def _posted(request: AnyRequest) -> dict[str, str]:
    """The form's fields, decoded strictly: a byte that is not UTF-8 is refused, not guessed,
    and so is a form declared in another charset (browsers send UTF-8 forms undeclared)."""
    content_type, options = request.content_type
    if options.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        raise BadForm(415)
    if content_type == RequestEncodingType.URL_ENCODED:
        try:
            pairs = parse_qsl(
                (await request.body()).decode("utf-8"),
                keep_blank_values=True,
                errors="strict",
                max_num_fields=50,
            )
        except (UnicodeDecodeError, ValueError):
            raise BadForm(400) from None
    elif content_type == RequestEncodingType.MULTI_PART:
        pairs = [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
        if any("\ufffd" in value for _, value in pairs):  # the parser's mark for bad bytes
            raise BadForm(400)
    else:
        raise BadForm(415)
    form = {key: value for key, value in pairs if key in FORM_FIELDS}
    if any(len(value) > MAX_FIELD for value in form.values()):
        raise BadForm(400)
    return form


def _page(
    request: AnyRequest,
    *,
    settings: Settings,
    now: datetime,
    status_code: int,
    message: str | None = None,
    turn: Turn | None = None,
    context: dict[str, Any] | None = None,
) -> Template:
    return Template(
        template_name="respond.html",
        context={
            "message": message,
            "turn": turn,
            "now": now,
            "hours": settings.response_hours,
            "reasons": DECLINE_REASONS,
            "currencies": CURRENCIES,
            "errors": {},
            "form": {},
            **(context or {}),
        },
        status_code=status_code,
        headers=PRIVATE,
    )


def _view(session: Any, *, link: Link, settings: Settings) -> tuple[Turn, dict[str, Any]]:
    """What the page shows of a link: the request itself only while it is theirs to answer."""
    turn = find_turn(session, link=link)
    context: dict[str, Any] = {}
    if turn.state is TurnState.open:
        context["lead_request"] = request_context(
            session=session, lead=turn.lead, settings=settings
        )
    return turn, context


def _gone(request: AnyRequest, exc: NotFound) -> Response[Any]:
    state = request.app.state
    return _page(
        request, settings=state.settings, now=state.clock(), status_code=404, message=exc.message
    )


def _refused(request: AnyRequest, exc: Refused) -> Response[Any]:
    state = request.app.state
    return _page(
        request, settings=state.settings, now=state.clock(), status_code=409, message=exc.message
    )


def _bad_form(request: AnyRequest, exc: BadForm) -> Response[Any]:
    state = request.app.state
    message = (
        "Please answer with the form on this page."
        if exc.status_code == 415
        else "The form could not be read. Please go back, reload the page and try again."
    )
    return _page(
        request,
        settings=state.settings,
        now=state.clock(),
        status_code=exc.status_code,
        message=message,
    )


class RespondPages(Controller):
    path = "/respond"
    include_in_schema = False
    exception_handlers = {NotFound: _gone, Refused: _refused, BadForm: _bad_form}

    @get("/{token:str}", name="respond:page", cache=False)
    async def page(
        self,
        request: AnyRequest,
        token: FromPath[str],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        now: NamedDependency[datetime],
    ) -> Template:
        link = _link(token, settings)
        if link.expired(now):
            return _page(
                request,
                settings=settings,
                now=now,
                status_code=410,
                message=messages.RESPOND_EXPIRED,
            )
        turn, context = await session.run_sync(lambda s: _view(s, link=link, settings=settings))
        recorded, already = (
            request.query_params.get("recorded"),
            request.query_params.get("already"),
        )
        context["action"] = request.app.route_reverse("respond:answer", token=token)
        context["just"] = recorded if recorded in ResponseAction.__members__ else None
        context["already"] = already if already in ResponseAction.__members__ else None
        message = None if turn.offered else turn.refusal(settings)
        return _page(
            request,
            settings=settings,
            now=now,
            status_code=STATUS[turn.state],
            message=message,
            turn=turn,
            context=context,
        )

    @post("/{token:str}", name="respond:answer")
    async def answer(
        self,
        request: AnyRequest,
        token: FromPath[str],
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        settings: NamedDependency[Settings],
        now: NamedDependency[datetime],
    ) -> Template | Redirect:
        link = _link(token, settings)
        if link.expired(now):
            return _page(
                request,
                settings=settings,
                now=now,
                status_code=410,
                message=messages.RESPOND_EXPIRED,
            )
        form = await _posted(request)
        try:
            answer = read_answer(form)
        except AnswerErrors as exc:
            turn, context = await session.run_sync(lambda s: _view(s, link=link, settings=settings))
            context |= {
                "errors": exc.errors,
                "form": form,
                "action": request.app.route_reverse("respond:answer", token=token),
            }
            return _page(
                request,
                settings=settings,
                now=now,
                status_code=400,
                message=None if turn.offered else turn.refusal(settings),
                turn=turn,
                context=context,
            )
        recorded = await database.write(
            respond, link=link, answer=answer, settings=settings, now=now
        )
        outcome = "already" if recorded.already else "recorded"
        target = request.app.route_reverse("respond:page", token=token)
        return Redirect(f"{target}?{urlencode({outcome: recorded.action})}", status_code=303)
