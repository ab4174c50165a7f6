"""The leads list, one lead, its pipeline, notes, reassignment, erasure, email retry and export."""

from __future__ import annotations

import uuid
from datetime import datetime

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import Database
from service.desk import messages
from service.desk.controllers.web import AnyRequest, back_to, flash, form_of, page
from service.edge import as_id
from service.facilitators import facilitator_choices
from service.languages import LANGUAGES
from service.leads import privacy, workflow
from service.leads.export import open_csv, record_export
from service.leads.fields import fields_of, shown
from service.leads.pipeline import STATUSES
from service.leads.queries import (
    CountsCache,
    Cursor,
    LeadFilter,
    lead_record,
    list_leads,
    treatment_choices,
)
from service.leads.responses import DECLINE_REASONS, lead_answers, span
from service.leads.timeline import describe
from service.models import Coordinator
from service.settings import Settings


class DeskLeads(Controller):
    include_in_schema = False

    @get("/", name="desk:home", cache=False)
    async def home(self, request: AnyRequest) -> Redirect:
        return back_to(request, "desk:leads")

    @get("/leads", name="desk:leads", cache=False)
    async def leads(
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        counts: NamedDependency[CountsCache],
        now: NamedDependency[datetime],
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
            now=now,
            span=span,
        )

    @get("/leads/export.csv", name="desk:leads:export", cache=False)
    async def export(
        self,
        request: AnyRequest,
        database: NamedDependency[Database],
        coordinator: NamedDependency[Coordinator],
        now: NamedDependency[datetime],
    ) -> Stream:
        lead_filter = LeadFilter.from_query(request.query_params)
        await database.write(
            record_export, lead_filter=lead_filter, actor=coordinator.email, now=now
        )
        return Stream(
            await open_csv(database=database, lead_filter=lead_filter),
            media_type="text/csv",  # litestar adds "; charset=utf-8"
            headers={
                "Content-Disposition": (
                    f'attachment; filename="leads-{now.strftime("%Y%m%d-%H%M")}.csv"'
                )
            },
        )

    @get("/leads/{lead_id:uuid}", name="desk:lead", cache=False)
    async def lead(
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        lead_id: FromPath[uuid.UUID],
        now: NamedDependency[datetime],
    ) -> Template:
        record = await lead_record(session=session, lead_id=lead_id)
        return page(
            request,
            "lead.html",
            record=record,
            lead=record.lead,
            answers=await lead_answers(session=session, lead_id=lead_id),
            reasons=DECLINE_REASONS,
            now=now,
            span=span,
            facilitators=await facilitator_choices(session=session, active_only=True),
            request_fields=fields_of("request"),
            source_fields=fields_of("source"),
            shown=shown,
            describe=describe,
        )

    @post("/leads/{lead_id:uuid}/status", name="desk:lead:status")
    async def status(
        self,
        request: AnyRequest,
        database: NamedDependency[Database],
        lead_id: FromPath[uuid.UUID],
        coordinator: NamedDependency[Coordinator],
        counts: NamedDependency[CountsCache],
        now: NamedDependency[datetime],
    ) -> Redirect:
        new = (await form_of(request)).get("status", "")
        await database.write(
            workflow.change_status,
            lead_id=lead_id,
            new_status=new,
            actor=coordinator.email,
            now=now,
        )
        await counts.clear()  # after the commit: a list read meanwhile cannot keep the old counts
        flash(request, messages.STATUS_CHANGED.format(new=new))
        return back_to(request, "desk:lead", lead_id=lead_id)

    @post("/leads/{lead_id:uuid}/notes", name="desk:lead:note")
    async def note(
        self,
        request: AnyRequest,
        database: NamedDependency[Database],
        lead_id: FromPath[uuid.UUID],
        coordinator: NamedDependency[Coordinator],
        now: NamedDependency[datetime],
    ) -> Redirect:
        text = (await form_of(request)).get("note", "")
        await database.write(
            workflow.add_note, lead_id=lead_id, text=text, actor=coordinator.email, now=now
        )
        flash(request, messages.NOTE_ADDED)
        return back_to(request, "desk:lead", lead_id=lead_id)

    @post("/leads/{lead_id:uuid}/reassign", name="desk:lead:reassign")
    async def reassign(
        self,
        request: AnyRequest,
        database: NamedDependency[Database],
        lead_id: FromPath[uuid.UUID],
        coordinator: NamedDependency[Coordinator],
        settings: NamedDependency[Settings],
        now: NamedDependency[datetime],
    ) -> Redirect:
        chosen = (await form_of(request)).get("facilitator_id", "")
        facilitator = await database.write(
            workflow.reassign,
            lead_id=lead_id,
            facilitator_id=as_id(chosen) or 0,
            actor=coordinator.email,
            settings=settings,
            now=now,
        )
        flash(request, messages.REASSIGNED.format(name=facilitator.name))
        return back_to(request, "desk:lead", lead_id=lead_id)

    @post("/leads/{lead_id:uuid}/erase", name="desk:lead:erase")
    async def erase(
        self,
        request: AnyRequest,
        database: NamedDependency[Database],
        lead_id: FromPath[uuid.UUID],
        coordinator: NamedDependency[Coordinator],
        settings: NamedDependency[Settings],
        now: NamedDependency[datetime],
    ) -> Redirect:
        reason = (await form_of(request)).get("reason", "")
        erased = await database.write(
            privacy.erase,
            lead_id=lead_id,
            by=privacy.ErasedBy.coordinator,
            actor=coordinator.email,
            reason=reason,
            settings=settings,
            now=now,
        )
        told = len(erased.facilitators_told)
        flash(request, messages.ERASED.format(cancelled=erased.emails_cancelled, told=told))
        return back_to(request, "desk:lead", lead_id=lead_id)

    @post("/emails/{outbox_id:int}/retry", name="desk:email:retry")
    async def retry(
        self,
        request: AnyRequest,
        database: NamedDependency[Database],
        outbox_id: FromPath[int],
        coordinator: NamedDependency[Coordinator],
        now: NamedDependency[datetime],
    ) -> Redirect:
        message = await database.write(
            workflow.retry_email, outbox_id=outbox_id, actor=coordinator.email, now=now
        )
        flash(request, messages.RETRY_QUEUED)
        if message.lead_id is not None and request.query_params.get("from") != "mail":
            return back_to(request, "desk:lead", lead_id=message.lead_id)
        return back_to(request, "desk:mail:message", outbox_id=outbox_id)
