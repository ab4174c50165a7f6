"""Facilitators (administrators only)."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.access import ADMIN
from service.db import Database
from service.desk import messages
from service.desk.controllers.web import AnyRequest, back_to, flash, form_of, page
from service.errors import Conflict
from service.facilitators import (
    RECENT_DAYS,
    FacilitatorInput,
    facilitators_with_counts,
    form_values,
    get_facilitator,
    input_errors,
    save_facilitator,
    set_active,
)


class DeskFacilitators(Controller):
    include_in_schema = False
    opt = {ADMIN: True}

    @get("/facilitators", name="desk:facilitators", cache=False)
    async def facilitators(
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        now: NamedDependency[datetime],
    ) -> Template:
        rows = await facilitators_with_counts(session=session, now=now)
        return page(request, "facilitators.html", rows=rows, days=RECENT_DAYS)

    @get("/facilitators/new", name="desk:facilitators:new", cache=False)
    async def new(self, request: AnyRequest) -> Template:
        return page(request, "facilitator_form.html", facilitator=None, form={}, errors={})

    @get("/facilitators/{facilitator_id:int}", name="desk:facilitator", cache=False)
    async def edit(
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        facilitator_id: FromPath[int],
    ) -> Template:
        facilitator = await get_facilitator(session=session, facilitator_id=facilitator_id)
        return page(
            request,
            "facilitator_form.html",
            facilitator=facilitator,
            form=form_values(facilitator),
            errors={},
        )

    @post("/facilitators", name="desk:facilitators:add")
    async def add(
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        now: NamedDependency[datetime],
    ) -> Template | Redirect:
        return await _save(request, session, database, facilitator_id=None, now=now)

    @post("/facilitators/{facilitator_id:int}", name="desk:facilitator:save")
    async def save(
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        facilitator_id: FromPath[int],
        now: NamedDependency[datetime],
    ) -> Template | Redirect:
        return await _save(request, session, database, facilitator_id=facilitator_id, now=now)

    @post("/facilitators/{facilitator_id:int}/active", name="desk:facilitator:active")
    async def active(
        self,
        request: AnyRequest,
        database: NamedDependency[Database],
        facilitator_id: FromPath[int],
        now: NamedDependency[datetime],
    ) -> Redirect:
        active = (await form_of(request)).get("active") == "1"
        await database.write(set_active, facilitator_id=facilitator_id, active=active, now=now)
        flash(request, messages.FACILITATOR_ENABLED if active else messages.FACILITATOR_DISABLED)
        return back_to(request, "desk:facilitators")


async def _save(
    request: AnyRequest,
    session: AsyncSession,
    database: Database,
    *,
    facilitator_id: int | None,
    now: datetime,
) -> Template | Redirect:
    """Add or edit; a form with errors comes back with each message beside its field."""
    posted = await form_of(request)
    try:
        data = FacilitatorInput.model_validate(posted)
        await database.write(save_facilitator, facilitator_id=facilitator_id, data=data, now=now)
    except ValidationError as exc:
        errors = input_errors(exc)
    except Conflict as exc:  # the email belongs to another facilitator: said beside the field
        errors = {"email": exc.message}
    else:
        flash(request, messages.FACILITATOR_SAVED)
        return back_to(request, "desk:facilitators")
    facilitator = (
        await get_facilitator(session=session, facilitator_id=facilitator_id)
        if facilitator_id is not None
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
