"""Personal API tokens."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts import messages as account_messages
from service.accounts.tokens import create_token, revoke_token, tokens_of
from service.db import Database
from service.desk import messages
from service.desk.controllers.web import AnyRequest, back_to, flash, form_of, page
from service.models import Coordinator


class DeskTokens(Controller):
    include_in_schema = False

    @get("/tokens", name="desk:tokens", cache=False)
    async def tokens(
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        coordinator: NamedDependency[Coordinator],
    ) -> Template:
        tokens = await tokens_of(session=session, coordinator=coordinator)
        return page(request, "tokens.html", tokens=tokens, new_token=None, error=None)

    @post("/tokens", name="desk:tokens:create")
    async def create(
        self,
        request: AnyRequest,
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        coordinator: NamedDependency[Coordinator],
        now: NamedDependency[datetime],
    ) -> Template:
        name = (await form_of(request)).get("name", "").strip()
        if not name:
            tokens = await tokens_of(session=session, coordinator=coordinator)
            return page(
                request,
                "tokens.html",
                tokens=tokens,
                new_token=None,
                error=account_messages.TOKEN_NAME_REQUIRED,
                status_code=400,
            )
        token = await database.write(
            create_token, coordinator_id=coordinator.id, name=name, now=now
        )
        tokens = await tokens_of(session=session, coordinator=coordinator)
        # Shown in this response only: the page is not cached and the token is not stored.
        return page(request, "tokens.html", tokens=tokens, new_token=token, error=None)

    @post("/tokens/{token_id:int}/revoke", name="desk:tokens:revoke")
    async def revoke(
        self,
        request: AnyRequest,
        database: NamedDependency[Database],
        coordinator: NamedDependency[Coordinator],
        token_id: FromPath[int],
        now: NamedDependency[datetime],
    ) -> Redirect:
        await database.write(
            revoke_token, coordinator_id=coordinator.id, token_id=token_id, now=now
        )
        flash(request, messages.TOKEN_REVOKED)
        return back_to(request, "desk:tokens")
