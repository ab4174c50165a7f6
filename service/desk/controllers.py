"""HTTP for the coordinator desk: thin handlers that parse, call one service, pick a response."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, Router, get, post
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Stream, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import Database
from service.desk import messages
from service.desk.access import (
    PUBLIC,
    SESSION_KEY,
    AdminOnly,
    SignInRequired,
    current_coordinator,
    desk_guard,
    now_utc,
)
from service.desk.accounts import sign_in
from service.desk.export import csv_chunks, record_export
from service.desk.leads import (
    Cursor,
    DeskActionRefused,
    LeadFilter,
    LeadNotFound,
    add_note,
    change_status,
    facilitator_choices,
    lead_record,
    list_leads,
    reassign,
    retry_email,
    status_counts,
    treatment_choices,
)
from service.desk.pipeline import STATUSES
from service.desk.sessions import ROTATE
from service.errors import handle_exception
from service.leads.schemas import LANGUAGES
from service.models import Coordinator
from service.settings import Settings

AnyRequest = Request[Any, Any, Any]


def flash(request: AnyRequest, message: str, *, error: bool = False) -> None:
    request.session["flash"] = {"message": message, "error": error}


def page(request: AnyRequest, template: str, *, status_code: int = 200, **context: Any) -> Template:
    """A desk page: the signed-in coordinator and any message left by the last action."""
    shown = request.session.pop("flash", None) if "session" in request.scope else None
    coordinator = getattr(request.state, "coordinator", None)
    return Template(
        template_name=f"desk/{template}",
        context={"coordinator": coordinator, "flash": shown, **context},
        status_code=status_code,
    )


def back_to(request: AnyRequest, name: str, **params: Any) -> Redirect:
    return Redirect(request.app.route_reverse(name, **params), status_code=303)


async def form_of(request: AnyRequest) -> dict[str, str]:
    posted = await request.form()
    return {key: str(value) for key, value in posted.items()}


def client_ip(request: AnyRequest) -> str | None:
    return request.client.host if request.client else None


class DeskAuth(Controller):
    include_in_schema = False

    @get("/sign-in", name="desk:sign-in", opt={PUBLIC: True}, cache=False)
    async def sign_in_page(self, request: AnyRequest) -> Template | Redirect:
        if request.session.get(SESSION_KEY):
            return back_to(request, "desk:leads")
        return page(request, "sign_in.html", email="", error=None)

    @post("/sign-in", name="desk:sign-in:submit", opt={PUBLIC: True})
    async def sign_in_submit(
        self, request: AnyRequest, session: AsyncSession, settings: Settings
    ) -> Template | Redirect:
        form = await form_of(request)
        result = await sign_in(
            session=session, email=form.get("email", "")[:254], password=form.get("password", ""),
            ip=client_ip(request), now=now_utc(), max_failures=settings.sign_in_max_failures,
            window=settings.sign_in_window(),
        )
        if result.coordinator is None:
            error = (
                messages.SIGN_IN_THROTTLED.format(minutes=settings.sign_in_window_minutes)
                if result.throttled else messages.SIGN_IN_FAILED
            )
            status = 429 if result.throttled else 400
            return page(request, "sign_in.html", email=form.get("email", ""), error=error,
                        status_code=status)
        # A fresh session under a new id: a session id planted before sign-in is worthless.
        request.set_session({SESSION_KEY: result.coordinator.id, ROTATE: True})
        return back_to(request, "desk:leads")

    @post("/sign-out", name="desk:sign-out")
    async def sign_out(self, request: AnyRequest) -> Redirect:
        request.clear_session()
        return back_to(request, "desk:sign-in")


class DeskLeads(Controller):
    include_in_schema = False

    @get("/", name="desk:home", cache=False)
    async def home(self, request: AnyRequest) -> Redirect:
        return back_to(request, "desk:leads")

    @get("/leads", name="desk:leads", cache=False)
    async def leads(self, request: AnyRequest, session: AsyncSession) -> Template:
        lead_filter = LeadFilter.from_query(request.query_params)
        cursor = Cursor.decode(request.query_params.get("after"))
        result = await list_leads(session=session, lead_filter=lead_filter, cursor=cursor)
        return page(
            request, "leads.html", page=result, filter=lead_filter, first_page=cursor is None,
            counts=await status_counts(session=session), statuses=STATUSES,
            facilitators=await facilitator_choices(session=session),
            treatments=await treatment_choices(session=session), languages=LANGUAGES,
        )

    @get("/leads/export.csv", name="desk:leads:export", cache=False)
    async def export(
        self, request: AnyRequest, session: AsyncSession, database: Database,
        coordinator: Coordinator,
    ) -> Stream:
        lead_filter = LeadFilter.from_query(request.query_params)
        await record_export(session=session, lead_filter=lead_filter, actor=coordinator.email,
                            now=now_utc())
        stamp = now_utc().strftime("%Y%m%d-%H%M")
        return Stream(
            csv_chunks(database=database, lead_filter=lead_filter),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="leads-{stamp}.csv"'},
        )

    @get("/leads/{lead_id:uuid}", name="desk:lead", cache=False)
    async def lead(self, request: AnyRequest, session: AsyncSession, lead_id: uuid.UUID) -> Template:
        record = await lead_record(session=session, lead_id=lead_id)
        facilitators = await facilitator_choices(session=session, active_only=True)
        return page(request, "lead.html", record=record, lead=record.lead, facilitators=facilitators)

    @post("/leads/{lead_id:uuid}/status", name="desk:lead:status")
    async def status(
        self, request: AnyRequest, session: AsyncSession, lead_id: uuid.UUID,
        coordinator: Coordinator,
    ) -> Redirect:
        new = (await form_of(request)).get("status", "")
        await change_status(session=session, lead_id=lead_id, new_status=new,
                            actor=coordinator.email, now=now_utc())
        flash(request, messages.STATUS_CHANGED.format(new=new))
        return back_to(request, "desk:lead", lead_id=lead_id)

    @post("/leads/{lead_id:uuid}/notes", name="desk:lead:note")
    async def note(
        self, request: AnyRequest, session: AsyncSession, lead_id: uuid.UUID,
        coordinator: Coordinator,
    ) -> Redirect:
        text = (await form_of(request)).get("note", "")
        await add_note(session=session, lead_id=lead_id, text=text, actor=coordinator.email,
                       now=now_utc())
        flash(request, messages.NOTE_ADDED)
        return back_to(request, "desk:lead", lead_id=lead_id)

    @post("/leads/{lead_id:uuid}/reassign", name="desk:lead:reassign")
    async def reassign(
        self, request: AnyRequest, session: AsyncSession, lead_id: uuid.UUID,
        coordinator: Coordinator, settings: Settings,
    ) -> Redirect:
        chosen = (await form_of(request)).get("facilitator_id", "")
        facilitator = await reassign(
            session=session, lead_id=lead_id, facilitator_id=int(chosen) if chosen.isdigit() else 0,
            actor=coordinator.email, settings=settings, now=now_utc(),
        )
        flash(request, messages.REASSIGNED.format(name=facilitator.name))
        return back_to(request, "desk:lead", lead_id=lead_id)

    @post("/emails/{outbox_id:int}/retry", name="desk:email:retry")
    async def retry(
        self, request: AnyRequest, session: AsyncSession, outbox_id: int, coordinator: Coordinator
    ) -> Redirect:
        message = await retry_email(session=session, outbox_id=outbox_id, actor=coordinator.email,
                                    now=now_utc())
        flash(request, messages.RETRY_QUEUED)
        if message.lead_id is not None and request.query_params.get("from") != "mail":
            return back_to(request, "desk:lead", lead_id=message.lead_id)
        return back_to(request, "desk:mail:message", outbox_id=outbox_id)


def _sign_in_redirect(request: AnyRequest, _: SignInRequired) -> Response[Any]:
    return back_to(request, "desk:sign-in")


def _admin_only(request: AnyRequest, exc: AdminOnly) -> Response[Any]:
    return page(request, "forbidden.html", status_code=403, message=exc.detail)


def _not_found(request: AnyRequest, _: LeadNotFound) -> Response[Any]:
    return handle_exception(request, NotFoundException())


def _refused(request: AnyRequest, exc: DeskActionRefused) -> Response[Any]:
    """An action that is not allowed: back to the page it came from, with the reason."""
    flash(request, exc.message, error=True)
    params = request.path_params
    if "lead_id" in params:
        return back_to(request, "desk:lead", lead_id=params["lead_id"])
    if "outbox_id" in params:
        return back_to(request, "desk:mail:message", outbox_id=params["outbox_id"])
    return back_to(request, "desk:leads")


def desk_router(extra: list[Any]) -> Router:
    return Router(
        path="/desk",
        route_handlers=[DeskAuth, DeskLeads, *extra],
        guards=[desk_guard],
        dependencies={"coordinator": Provide(current_coordinator, sync_to_thread=False)},
        exception_handlers={
            SignInRequired: _sign_in_redirect,
            AdminOnly: _admin_only,
            LeadNotFound: _not_found,
            DeskActionRefused: _refused,
        },
        include_in_schema=False,
    )
