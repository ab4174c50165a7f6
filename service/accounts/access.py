"""Who may do what: the desk guard (signed-in coordinators; admins for management) and the
API guard (a personal Bearer token). Both put the coordinator on `connection.state`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import select

from service.accounts import messages
from service.accounts.coordinators import active_coordinator
from service.accounts.tokens import mark_used, token_digest
from service.clock import Clock
from service.db import Database
from service.models import ApiToken, Coordinator

SESSION_KEY = "coordinator_id"
ADMIN = "admin"  # route handler opt: {"admin": True}
PUBLIC = "public"  # route handler opt: {"public": True} (the sign-in page)


class SignInRequired(NotAuthorizedException):
    """An anonymous request to a desk page: answered with a redirect to the sign-in page."""


class AdminOnly(PermissionDeniedException):
    """A coordinator asked for an administrator's page or action."""


def _database(connection: ASGIConnection[Any, Any, Any, Any]) -> Database:
    database: Database = connection.app.state["database"]
    return database


async def desk_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    if handler.opt.get(PUBLIC):
        return
    coordinator_id = connection.session.get(SESSION_KEY) if "session" in connection.scope else None
    coordinator = None
    if isinstance(coordinator_id, int):
        async with _database(connection).session() as session:
            coordinator = await active_coordinator(session=session, coordinator_id=coordinator_id)
    if coordinator is None:
        if coordinator_id is not None:  # a disabled or deleted account: end its session
            connection.clear_session()
        raise SignInRequired(messages.SIGN_IN_REQUIRED)
    if handler.opt.get(ADMIN) and coordinator.role != "admin":
        raise AdminOnly(messages.ADMIN_ONLY)
    connection.state.coordinator = coordinator


async def api_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    scheme, _sep, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException(
            messages.API_TOKEN_REQUIRED, headers={"WWW-Authenticate": "Bearer"}
        )
    async with _database(connection).session() as session:
        row = (
            await session.execute(
                select(ApiToken, Coordinator)
                .join(Coordinator, ApiToken.coordinator_id == Coordinator.id)
                .where(ApiToken.token_sha256 == token_digest(token.strip()))
            )
        ).first()
    if row is None or row[0].revoked_at is not None or not row[1].active:
        raise NotAuthorizedException(
            messages.API_TOKEN_REQUIRED, headers={"WWW-Authenticate": "Bearer"}
        )
    token_row, coordinator = row
    clock: Clock = connection.app.state["clock"]
    now = clock()
    # Last use to the minute is enough, and spares a write on every call.
    if token_row.last_used_at is None or now - token_row.last_used_at > timedelta(minutes=1):
        await _database(connection).write(mark_used, token_id=token_row.id, now=now)
    connection.state.coordinator = coordinator


def current_coordinator(request: Request[Any, Any, Any]) -> Coordinator:
    """Dependency: the coordinator the guard let in."""
    coordinator: Coordinator = request.state.coordinator
    return coordinator
