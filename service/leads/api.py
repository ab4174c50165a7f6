"""The leads API for integrations: list (same filters as the desk, keyset cursor), read, and
update a lead's status or add a note. Personal Bearer tokens; 401 without one."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, get, patch
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel, Field, create_model
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.access import api_guard, current_coordinator
from service.db import Database
from service.leads.fields import LEAD_FIELDS, raw_values
from service.leads.pipeline import LeadStatus
from service.leads.queries import Cursor, LeadFilter, lead_record, list_leads
from service.leads.responses import DeclineReason, ResponseAction, lead_answers
from service.leads.workflow import NOTE_MAX, update_lead
from service.models import Coordinator, Lead

# Every field of the table, with the lead's id and its facilitator's id.
_LeadOut: type[BaseModel] = create_model(
    "LeadOut",
    id=(uuid.UUID, ...),
    facilitator_id=(int | None, None),
    **{f.name: (f.type, Field(description=f.description or f.label)) for f in LEAD_FIELDS},  # type: ignore[call-overload]
)


class LeadOut(_LeadOut):
    @classmethod
    def of(cls, lead: Lead) -> LeadOut:
        facilitator = lead.facilitator.name if lead.facilitator else None
        values = raw_values(lead, facilitator=facilitator)
        return cls(id=lead.id, facilitator_id=lead.facilitator_id, **values)


class EventOut(BaseModel):
    kind: str
    actor: str | None
    created_at: datetime
    data: dict[str, Any]


class ResponseOut(BaseModel):
    """A facilitator's answer through their personal link."""

    facilitator_id: int | None
    action: str = Field(description=", ".join(ResponseAction))
    reason: str | None = Field(description="for a decline: " + ", ".join(DeclineReason))
    price_min: int | None
    price_max: int | None
    currency: str | None
    note: str | None
    created_at: datetime


class LeadDetail(LeadOut):
    response_due_at: datetime | None = Field(
        description="when the current facilitator's answer is due (empty once answered)"
    )
    responses: list[ResponseOut]
    events: list[EventOut]


class LeadList(BaseModel):
    leads: list[LeadOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")


class LeadPatch(BaseModel):
    status: LeadStatus | None = None
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class LeadsApi(Controller):
    path = "/api/v1/leads"
    # litestar reads these as class attributes: not mutated, so RUF012 does not apply.
    tags = ["leads"]
    guards = [api_guard]
    security = [{"bearer": []}]
    dependencies = {"coordinator": Provide(current_coordinator, sync_to_thread=False)}

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
        overdue: Annotated[
            bool, QueryParameter(description="Only leads whose facilitator let the deadline pass")
        ] = False,
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
            "overdue": "1" if overdue else "",
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
        now: NamedDependency[datetime],
    ) -> LeadDetail:
        await database.write(
            update_lead,
            lead_id=lead_id,
            status=data.status,
            note=data.note,
            actor=coordinator.email,
            now=now,
        )
        session.expire_all()  # read the lead again, with the events just written
        return await _detail(session, lead_id)


async def _detail(session: AsyncSession, lead_id: uuid.UUID) -> LeadDetail:
    record = await lead_record(session=session, lead_id=lead_id)
    base = LeadOut.of(record.lead).model_dump()
    events = [EventOut.model_validate(e, from_attributes=True) for e in record.lead.events]
    answers = await lead_answers(session=session, lead_id=lead_id)
    return LeadDetail(
        **base,
        response_due_at=answers.due_at(record.lead),
        responses=[ResponseOut.model_validate(a, from_attributes=True) for a in answers.answers],
        events=events,
    )
