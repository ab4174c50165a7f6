"""The stats page."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.desk.controllers.web import AnyRequest, page
from service.desk.stats import funnel


class DeskStats(Controller):
    include_in_schema = False

    @get("/stats", name="desk:stats", cache=False)
    async def stats(
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        now: NamedDependency[datetime],
    ) -> Template:
        return page(request, "stats.html", stats=await funnel(session=session, now=now))
