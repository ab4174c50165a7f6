"""The leads API for integrations: list (same filters as the desk, keyset cursor), read, and
update a lead's status or add a note. Personal Bearer tokens; 401 without one."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import Database
from service.desk.access import api_guard, current_coordinator, now_utc
from service.desk.leads import (
    Cursor,
    DeskActionRefused,
    LeadFilter,
    LeadNotFound,
    add_note,
    change_status,
    lead_record,
    list_leads,
)
from service.models import Coordinator, Lead


class LeadOut(BaseModel):
    id: uuid.UUID
    reference: str
    status: str
    created_at: datetime
    full_name: str
    email: str
    phone: str | None
    country: str
    language: str
    patient_relation: str | None
    treatment: str
    destination: str
    stroke_type: str | None
    stroke_date: str | None
    medical_summary: str | None
    travel_window: str | None
    budget: str | None
    contact_method: str
    facilitator_id: int | None
    source: str
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None

    @classmethod
    def of(cls, lead: Lead) -> LeadOut:
        return cls.model_validate(lead, from_attributes=True)


class EventOut(BaseModel):
    kind: str
    actor: str | None
    created_at: datetime
    data: dict[str, Any]


class LeadDetail(LeadOut):
    events: list[EventOut]


class LeadList(BaseModel):
    leads: list[LeadOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")


class LeadPatch(BaseModel):
    status: str | None = Field(
        default=None, description="new, contacted, quoted, won, lost, spam or duplicate"
    )
    note: str | None = Field(default=None, max_length=5000)


class ApiError(BaseModel):
    status_code: int
    detail: str


def _refused(_: Request[Any, Any, Any], exc: DeskActionRefused) -> Response[ApiError]:
    return Response(ApiError(status_code=409, detail=exc.message), status_code=409)


def _not_found(request: Request[Any, Any, Any], _: LeadNotFound) -> Response[ApiError]:
    return Response(ApiError(status_code=404, detail="No lead with this id."), status_code=404)


class LeadsApi(Controller):
    path = "/api/v1/leads"
    # litestar reads these as class attributes: not mutated, so RUF012 does not apply.
    tags = ["leads"]
    guards = [api_guard]
    security = [{"bearer": []}]
    dependencies = {"coordinator": Provide(current_coordinator, sync_to_thread=False)}
    exception_handlers = {
        DeskActionRefused: _refused,
        LeadNotFound: _not_found,
    }

    @get("/", name="api:leads:list", summary="List leads, newest first")
    async def index(
        self,
        session: NamedDependency[AsyncSession],
        status: FromQuery[str | None] = None,
        facilitator: FromQuery[int | None] = None,
        treatment: FromQuery[str | None] = None,
        language: FromQuery[str | None] = None,
        date_from: FromQuery[date | None] = None,
        date_to: FromQuery[date | None] = None,
        unrouted: FromQuery[bool] = False,
        dead_email: FromQuery[bool] = False,
        q: Annotated[str | None, QueryParameter(description="Reference, name or email")] = None,
        cursor: Annotated[
            str | None, QueryParameter(description="`next_cursor` of the previous page")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> LeadList:
        query = {
            "status": status,
            "facilitator": facilitator,
            "treatment": treatment,
            "language": language,
            "date_from": date_from,
            "date_to": date_to,
            "unrouted": "1" if unrouted else "",
            "dead_email": "1" if dead_email else "",
            "q": q,
        }
        lead_filter = LeadFilter.from_query({k: str(v) for k, v in query.items() if v is not None})
        page = await list_leads(
            session=session, lead_filter=lead_filter, cursor=Cursor.decode(cursor), limit=limit
        )
        return LeadList(
            leads=[LeadOut.of(lead) for lead in page.leads], next_cursor=page.next_cursor
        )

    @get("/{lead_id:uuid}", name="api:leads:get", summary="One lead with its timeline")
    async def get(
        self, session: NamedDependency[AsyncSession], lead_id: FromPath[uuid.UUID]
    ) -> LeadDetail:
        return await _detail(session, lead_id)

    @patch(
        "/{lead_id:uuid}",
        name="api:leads:update",
        summary="Change a lead's status or add a note",
        description="Refused with 409 when the pipeline does not allow the move.",
    )
    async def update(
        self,
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        lead_id: FromPath[uuid.UUID],
        data: JSONBody[LeadPatch],
        coordinator: NamedDependency[Coordinator],
    ) -> LeadDetail:
        now = now_utc()
        if data.status is not None:
            await change_status(
                database=database,
                lead_id=lead_id,
                new_status=data.status,
                actor=coordinator.email,
                now=now,
            )
        if data.note:
            await add_note(
                database=database, lead_id=lead_id, text=data.note, actor=coordinator.email, now=now
            )
        session.expire_all()  # read the lead again, with the events just written
        return await _detail(session, lead_id)


async def _detail(session: AsyncSession, lead_id: uuid.UUID) -> LeadDetail:
    try:
        record = await lead_record(session=session, lead_id=lead_id)
    except LeadNotFound:
        raise NotFoundException("No lead with this id.") from None
    base = LeadOut.of(record.lead).model_dump()
    events = [EventOut.model_validate(e, from_attributes=True) for e in record.lead.events]
    return LeadDetail(**base, events=events)
