"""Desk accounts (administrators only)."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.access import ADMIN
from service.accounts.coordinators import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    list_coordinators,
    register_coordinator,
    set_coordinator_active,
)
from service.db import Database
from service.desk import messages
from service.desk.controllers.web import AnyRequest, back_to, flash, form_of, page
from service.models import Coordinator


class DeskCoordinators(Controller):
    include_in_schema = False
    opt = {ADMIN: True}

    @get("/coordinators", name="desk:coordinators", cache=False)
    async def coordinators(
        self, request: AnyRequest, session: NamedDependency[AsyncSession]
    ) -> Template:
        return await _coordinators_page(request, session, form={}, errors={})

    @post("/coordinators", name="desk:coordinators:add")
    async def add(
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        now: NamedDependency[datetime],
    ) -> Template | Redirect:
        form = await form_of(request)
        errors = await register_coordinator(
            database=database,
            email=form.get("email", ""),
            password=form.get("password", ""),
            role=form.get("role", ""),
            now=now,
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
        database: NamedDependency[Database],
        coordinator_id: FromPath[int],
        coordinator: NamedDependency[Coordinator],
    ) -> Redirect:
        active = (await form_of(request)).get("active") == "1"
        await database.write(
            set_coordinator_active, coordinator_id=coordinator_id, active=active, by=coordinator
        )
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
