"""Facilitators (administrators only)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import Database
from service.desk import messages
from service.desk.access import (
    ADMIN,
    now_utc,
)
from service.desk.controllers.web import AnyRequest, back_to, flash, form_of, page
from service.desk.facilitators import (
    RECENT_DAYS,
    FacilitatorEmailTaken,
    FacilitatorForm,
    facilitators_with_counts,
    get_facilitator,
    save_facilitator,
    set_active,
)
from service.models import Facilitator


class DeskFacilitators(Controller):
    include_in_schema = False
    opt = {ADMIN: True}

    @get("/facilitators", name="desk:facilitators", cache=False)
    async def facilitators(
        self, request: AnyRequest, session: NamedDependency[AsyncSession]
    ) -> Template:
        rows = await facilitators_with_counts(session=session, now=now_utc())
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
    async def add(
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
    ) -> Template | Redirect:
        return await _save_facilitator(request, session, database, None)

    @post("/facilitators/{facilitator_id:int}", name="desk:facilitator:save")
    async def save(
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        facilitator_id: FromPath[int],
    ) -> Template | Redirect:
        return await _save_facilitator(request, session, database, facilitator_id)

    @post("/facilitators/{facilitator_id:int}/active", name="desk:facilitator:active")
    async def active(
        self,
        request: AnyRequest,
        database: NamedDependency[Database],
        facilitator_id: FromPath[int],
    ) -> Redirect:
        active = (await form_of(request)).get("active") == "1"
        await set_active(
            database=database, facilitator_id=facilitator_id, active=active, now=now_utc()
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
    request: AnyRequest, session: AsyncSession, database: Database, facilitator_id: int | None
) -> Template | Redirect:
    posted = await form_of(request)
    form, errors = FacilitatorForm.parse(posted)
    if not errors:
        try:
            await save_facilitator(
                database=database, facilitator_id=facilitator_id, form=form, now=now_utc()
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
