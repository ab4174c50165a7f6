"""HTTP for the coordinator desk: thin handlers that parse, call one service, pick a response."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, Router, get, post
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Stream, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import Database
from service.desk import messages
from service.desk.access import (
    ADMIN,
    PUBLIC,
    SESSION_KEY,
    AdminOnly,
    SignInRequired,
    current_coordinator,
    desk_guard,
    now_utc,
)
from service.desk.accounts import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    CannotDisableSelf,
    list_coordinators,
    register_coordinator,
    set_coordinator_active,
    sign_in,
)
from service.desk.export import csv_chunks, record_export
from service.desk.facilitators import (
    RECENT_DAYS,
    FacilitatorEmailTaken,
    FacilitatorForm,
    facilitators_with_counts,
    get_facilitator,
    save_facilitator,
    set_active,
)
from service.desk.leads import (
    CountsCache,
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
    treatment_choices,
)
from service.desk.mail_log import MAIL_STATUSES, get_message, list_messages, mail_counts
from service.desk.pipeline import STATUSES
from service.desk.sessions import ROTATE
from service.desk.stats import funnel
from service.desk.tokens import create_token, revoke_token, tokens_of
from service.errors import handle_exception
from service.leads.schemas import LANGUAGES
from service.models import Coordinator, Facilitator
from service.settings import Settings

AnyRequest = Request[Any, Any, Any]
EMAIL_HTML_HEADERS = {
    "Content-Security-Policy": (
        "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}


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
        wanted = safe_next(request.query_params.get("next"))
        if request.session.get(SESSION_KEY):
            return back_to(request, "desk:leads")
        return page(request, "sign_in.html", email="", error=None, next=wanted)

    @post("/sign-in", name="desk:sign-in:submit", opt={PUBLIC: True})
    async def sign_in_submit(
        self, request: AnyRequest, session: AsyncSession, settings: Settings
    ) -> Template | Redirect:
        form = await form_of(request)
        result = await sign_in(
            session=session,
            email=form.get("email", "")[:254],
            password=form.get("password", ""),
            ip=client_ip(request),
            now=now_utc(),
            max_failures=settings.sign_in_max_failures,
            window=settings.sign_in_window(),
        )
        if result.coordinator is None:
            return _sign_in_refused(request, form, throttled=result.throttled, settings=settings)
        # A fresh session under a new id: a session id planted before sign-in is worthless.
        request.set_session({SESSION_KEY: result.coordinator.id, ROTATE: True})
        wanted = safe_next(form.get("next"))
        return Redirect(wanted, status_code=303) if wanted else back_to(request, "desk:leads")

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
    async def leads(
        self, request: AnyRequest, session: AsyncSession, counts: CountsCache
    ) -> Template:
        lead_filter = LeadFilter.from_query(request.query_params)
        cursor = Cursor.decode(request.query_params.get("after"))
        result = await list_leads(session=session, lead_filter=lead_filter, cursor=cursor)
        return page(
            request,
            "leads.html",
            page=result,
            filter=lead_filter,
            first_page=cursor is None,
            counts=await counts.get(session=session),
            statuses=STATUSES,
            facilitators=await facilitator_choices(session=session),
            treatments=await treatment_choices(session=session),
            languages=LANGUAGES,
        )

    @get("/leads/export.csv", name="desk:leads:export", cache=False)
    async def export(
        self,
        request: AnyRequest,
        session: AsyncSession,
        database: Database,
        coordinator: Coordinator,
    ) -> Stream:
        lead_filter = LeadFilter.from_query(request.query_params)
        await record_export(
            session=session, lead_filter=lead_filter, actor=coordinator.email, now=now_utc()
        )
        stamp = now_utc().strftime("%Y%m%d-%H%M")
        return Stream(
            csv_chunks(database=database, lead_filter=lead_filter),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="leads-{stamp}.csv"'},
        )

    @get("/leads/{lead_id:uuid}", name="desk:lead", cache=False)
    async def lead(
        self, request: AnyRequest, session: AsyncSession, lead_id: uuid.UUID
    ) -> Template:
        record = await lead_record(session=session, lead_id=lead_id)
        facilitators = await facilitator_choices(session=session, active_only=True)
        return page(
            request, "lead.html", record=record, lead=record.lead, facilitators=facilitators
        )

    @post("/leads/{lead_id:uuid}/status", name="desk:lead:status")
    async def status(
        self,
        request: AnyRequest,
        session: AsyncSession,
        lead_id: uuid.UUID,
        coordinator: Coordinator,
        counts: CountsCache,
    ) -> Redirect:
        new = (await form_of(request)).get("status", "")
        counts.clear()
        await change_status(
            session=session, lead_id=lead_id, new_status=new, actor=coordinator.email, now=now_utc()
        )
        flash(request, messages.STATUS_CHANGED.format(new=new))
        return back_to(request, "desk:lead", lead_id=lead_id)

    @post("/leads/{lead_id:uuid}/notes", name="desk:lead:note")
    async def note(
        self,
        request: AnyRequest,
        session: AsyncSession,
        lead_id: uuid.UUID,
        coordinator: Coordinator,
    ) -> Redirect:
        text = (await form_of(request)).get("note", "")
        await add_note(
            session=session, lead_id=lead_id, text=text, actor=coordinator.email, now=now_utc()
        )
        flash(request, messages.NOTE_ADDED)
        return back_to(request, "desk:lead", lead_id=lead_id)

    @post("/leads/{lead_id:uuid}/reassign", name="desk:lead:reassign")
    async def reassign(
        self,
        request: AnyRequest,
        session: AsyncSession,
        lead_id: uuid.UUID,
        coordinator: Coordinator,
        settings: Settings,
    ) -> Redirect:
        chosen = (await form_of(request)).get("facilitator_id", "")
        facilitator = await reassign(
            session=session,
            lead_id=lead_id,
            facilitator_id=int(chosen) if chosen.isdigit() else 0,
            actor=coordinator.email,
            settings=settings,
            now=now_utc(),
        )
        flash(request, messages.REASSIGNED.format(name=facilitator.name))
        return back_to(request, "desk:lead", lead_id=lead_id)

    @post("/emails/{outbox_id:int}/retry", name="desk:email:retry")
    async def retry(
        self, request: AnyRequest, session: AsyncSession, outbox_id: int, coordinator: Coordinator
    ) -> Redirect:
        message = await retry_email(
            session=session, outbox_id=outbox_id, actor=coordinator.email, now=now_utc()
        )
        flash(request, messages.RETRY_QUEUED)
        if message.lead_id is not None and request.query_params.get("from") != "mail":
            return back_to(request, "desk:lead", lead_id=message.lead_id)
        return back_to(request, "desk:mail:message", outbox_id=outbox_id)


class DeskMail(Controller):
    include_in_schema = False

    @get("/mail", name="desk:mail", cache=False)
    async def mail(self, request: AnyRequest, session: AsyncSession) -> Template:
        status = request.query_params.get("status", "")
        before = request.query_params.get("before", "")
        result = await list_messages(
            session=session, status=status, before=int(before) if before.isdigit() else None
        )
        return page(
            request,
            "mail.html",
            page=result,
            status=status,
            statuses=MAIL_STATUSES,
            counts=await mail_counts(session=session),
        )

    @get("/mail/{outbox_id:int}", name="desk:mail:message", cache=False)
    async def message(self, request: AnyRequest, session: AsyncSession, outbox_id: int) -> Template:
        message = await get_message(session=session, outbox_id=outbox_id)
        if message is None:
            raise NotFoundException
        return page(request, "mail_message.html", message=message)

    @get("/mail/{outbox_id:int}/html", name="desk:mail:html", cache=False)
    async def message_html(self, session: AsyncSession, outbox_id: int) -> Response[str]:
        message = await get_message(session=session, outbox_id=outbox_id)
        if message is None:
            raise NotFoundException
        # Shown inside the message page's sandboxed iframe: no scripts, no remote content,
        # only the email's own inline styles, and framed by the desk alone.
        return Response(message.html, media_type="text/html", headers=EMAIL_HTML_HEADERS)


class DeskFacilitators(Controller):
    include_in_schema = False
    opt = {ADMIN: True}  # noqa: RUF012 - read by litestar, never mutated

    @get("/facilitators", name="desk:facilitators", cache=False)
    async def facilitators(self, request: AnyRequest, session: AsyncSession) -> Template:
        rows = await facilitators_with_counts(session=session, now=now_utc())
        return page(request, "facilitators.html", rows=rows, days=RECENT_DAYS)

    @get("/facilitators/new", name="desk:facilitators:new", cache=False)
    async def new(self, request: AnyRequest) -> Template:
        return page(request, "facilitator_form.html", facilitator=None, form={}, errors={})

    @get("/facilitators/{facilitator_id:int}", name="desk:facilitator", cache=False)
    async def edit(
        self, request: AnyRequest, session: AsyncSession, facilitator_id: int
    ) -> Template:
        facilitator = await get_facilitator(session=session, facilitator_id=facilitator_id)
        if facilitator is None:
            raise NotFoundException
        return page(
            request,
            "facilitator_form.html",
            facilitator=facilitator,
            form=facilitator_values(facilitator),
            errors={},
        )

    @post("/facilitators", name="desk:facilitators:add")
    async def add(self, request: AnyRequest, session: AsyncSession) -> Template | Redirect:
        return await _save_facilitator(request, session, None)

    @post("/facilitators/{facilitator_id:int}", name="desk:facilitator:save")
    async def save(
        self, request: AnyRequest, session: AsyncSession, facilitator_id: int
    ) -> Template | Redirect:
        return await _save_facilitator(request, session, facilitator_id)

    @post("/facilitators/{facilitator_id:int}/active", name="desk:facilitator:active")
    async def active(
        self, request: AnyRequest, session: AsyncSession, facilitator_id: int
    ) -> Redirect:
        active = (await form_of(request)).get("active") == "1"
        await set_active(
            session=session, facilitator_id=facilitator_id, active=active, now=now_utc()
        )
        flash(request, messages.FACILITATOR_ENABLED if active else messages.FACILITATOR_DISABLED)
        return back_to(request, "desk:facilitators")


def facilitator_values(facilitator: Facilitator) -> dict[str, str]:
    return {
        "name": facilitator.name,
        "email": facilitator.email,
        "languages": ", ".join(facilitator.languages),
        "treatments": ", ".join(facilitator.treatments),
        "destinations": ", ".join(facilitator.destinations),
        "weight": str(facilitator.weight),
    }


async def _save_facilitator(
    request: AnyRequest, session: AsyncSession, facilitator_id: int | None
) -> Template | Redirect:
    posted = await form_of(request)
    form, errors = FacilitatorForm.parse(posted)
    if not errors:
        try:
            await save_facilitator(
                session=session, facilitator_id=facilitator_id, form=form, now=now_utc()
            )
        except FacilitatorEmailTaken:
            errors["email"] = messages.FACILITATOR_EMAIL_TAKEN
        except LookupError:
            raise NotFoundException from None
    if errors:
        facilitator = (
            await get_facilitator(session=session, facilitator_id=facilitator_id)
            if facilitator_id
            else None
        )
        return page(
            request,
            "facilitator_form.html",
            facilitator=facilitator,
            form=posted,
            errors=errors,
            status_code=400,
        )
    flash(request, messages.FACILITATOR_SAVED)
    return back_to(request, "desk:facilitators")


class DeskStats(Controller):
    include_in_schema = False

    @get("/stats", name="desk:stats", cache=False)
    async def stats(self, request: AnyRequest, session: AsyncSession) -> Template:
        return page(request, "stats.html", stats=await funnel(session=session, now=now_utc()))


class DeskTokens(Controller):
    include_in_schema = False

    @get("/tokens", name="desk:tokens", cache=False)
    async def tokens(
        self, request: AnyRequest, session: AsyncSession, coordinator: Coordinator
    ) -> Template:
        tokens = await tokens_of(session=session, coordinator=coordinator)
        return page(request, "tokens.html", tokens=tokens, new_token=None, error=None)

    @post("/tokens", name="desk:tokens:create")
    async def create(
        self, request: AnyRequest, session: AsyncSession, coordinator: Coordinator
    ) -> Template:
        name = (await form_of(request)).get("name", "").strip()
        if not name:
            tokens = await tokens_of(session=session, coordinator=coordinator)
            return page(
                request,
                "tokens.html",
                tokens=tokens,
                new_token=None,
                error=messages.TOKEN_NAME_REQUIRED,
                status_code=400,
            )
        token = await create_token(
            session=session, coordinator=coordinator, name=name, now=now_utc()
        )
        tokens = await tokens_of(session=session, coordinator=coordinator)
        # Shown in this response only: the page is not cached and the token is not stored.
        return page(request, "tokens.html", tokens=tokens, new_token=token, error=None)

    @post("/tokens/{token_id:int}/revoke", name="desk:tokens:revoke")
    async def revoke(
        self, request: AnyRequest, session: AsyncSession, coordinator: Coordinator, token_id: int
    ) -> Redirect:
        await revoke_token(
            session=session, coordinator=coordinator, token_id=token_id, now=now_utc()
        )
        flash(request, messages.TOKEN_REVOKED)
        return back_to(request, "desk:tokens")


class DeskCoordinators(Controller):
    include_in_schema = False
    opt = {ADMIN: True}  # noqa: RUF012 - read by litestar, never mutated

    @get("/coordinators", name="desk:coordinators", cache=False)
    async def coordinators(self, request: AnyRequest, session: AsyncSession) -> Template:
        return await _coordinators_page(request, session, form={}, errors={})

    @post("/coordinators", name="desk:coordinators:add")
    async def add(self, request: AnyRequest, session: AsyncSession) -> Template | Redirect:
        form = await form_of(request)
        errors = await register_coordinator(
            session=session,
            email=form.get("email", ""),
            password=form.get("password", ""),
            role=form.get("role", ""),
            now=now_utc(),
        )
        if errors:
            form.pop("password", None)
            return await _coordinators_page(request, session, form=form, errors=errors, status=400)
        flash(request, messages.COORDINATOR_CREATED.format(email=form.get("email", "").strip()))
        return back_to(request, "desk:coordinators")

    @post("/coordinators/{coordinator_id:int}/active", name="desk:coordinator:active")
    async def active(
        self,
        request: AnyRequest,
        session: AsyncSession,
        coordinator_id: int,
        coordinator: Coordinator,
    ) -> Redirect:
        active = (await form_of(request)).get("active") == "1"
        try:
            await set_coordinator_active(
                session=session, coordinator_id=coordinator_id, active=active, by=coordinator
            )
        except CannotDisableSelf:
            raise DeskActionRefused(messages.COORDINATOR_SELF) from None
        except LookupError:
            raise NotFoundException from None
        flash(request, messages.COORDINATOR_ENABLED if active else messages.COORDINATOR_DISABLED)
        return back_to(request, "desk:coordinators")


async def _coordinators_page(
    request: AnyRequest,
    session: AsyncSession,
    *,
    form: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Template:
    return page(
        request,
        "coordinators.html",
        coordinators=await list_coordinators(session=session),
        roles=ROLES,
        form=form,
        errors=errors,
        min_password=MIN_PASSWORD_LENGTH,
        status_code=status,
    )


def _sign_in_refused(
    request: AnyRequest, form: dict[str, str], *, throttled: bool, settings: Settings
) -> Template:
    """The same answer whether or not the email exists; 429 while throttled."""
    if throttled:
        error = messages.SIGN_IN_THROTTLED.format(minutes=settings.sign_in_window_minutes)
    else:
        error = messages.SIGN_IN_FAILED
    return page(
        request,
        "sign_in.html",
        email=form.get("email", ""),
        error=error,
        next=safe_next(form.get("next")),
        status_code=429 if throttled else 400,
    )


def _sign_in_redirect(request: AnyRequest, _: SignInRequired) -> Response[Any]:
    """To the sign-in page; a page asked for (GET) is where sign-in leads back to."""
    target = request.app.route_reverse("desk:sign-in")
    if request.method == "GET" and request.url.path != "/desk/":
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target += "?" + urlencode({"next": wanted})
    return Redirect(target, status_code=303)


def safe_next(value: str | None) -> str | None:
    """Only a desk page of this site: never another host (`//evil`, `/\\evil`) or sign-in."""
    if not value or not value.startswith("/desk/") or "\\" in value or "//" in value:
        return None
    return None if value.startswith("/desk/sign-") else value


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
    if "coordinator_id" in params:
        return back_to(request, "desk:coordinators")
    return back_to(request, "desk:leads")


def desk_router(settings: Settings) -> Router:
    counts = CountsCache(ttl=settings.desk_counts_seconds)
    return Router(
        path="/desk",
        route_handlers=[
            DeskAuth,
            DeskLeads,
            DeskMail,
            DeskFacilitators,
            DeskStats,
            DeskTokens,
            DeskCoordinators,
        ],
        guards=[desk_guard],
        dependencies={
            "coordinator": Provide(current_coordinator, sync_to_thread=False),
            "counts": Provide(lambda: counts, sync_to_thread=False, use_cache=True),
        },
        exception_handlers={
            SignInRequired: _sign_in_redirect,
            AdminOnly: _admin_only,
            LeadNotFound: _not_found,
            DeskActionRefused: _refused,
        },
        include_in_schema=False,
    )
