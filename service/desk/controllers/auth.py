"""Signing in and out of the desk."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts import messages
from service.accounts.access import PUBLIC, SESSION_KEY
from service.accounts.coordinators import sign_in
from service.accounts.sessions import ROTATE
from service.db import Database
from service.desk.controllers.web import AnyRequest, back_to, client_ip, form_of, page
from service.settings import Settings


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
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        settings: NamedDependency[Settings],
        now: NamedDependency[datetime],
    ) -> Template | Redirect:
        form = await form_of(request)
        result = await sign_in(
            session=session,
            database=database,
            email=form.get("email", "")[:254],
            password=form.get("password", ""),
            ip=client_ip(request),
            now=now,
            max_failures=settings.sign_in_max_failures,
            window=settings.sign_in_window(),
            max_delay=settings.sign_in_max_delay_seconds,
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


def safe_next(value: str | None) -> str | None:
    """Only a desk page of this site: never another host (`//evil`, `/\\evil`) or sign-in."""
    if not value or not value.startswith("/desk/") or "\\" in value or "//" in value:
        return None
    return None if value.startswith("/desk/sign-") else value
