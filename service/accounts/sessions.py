"""Server-side desk sessions: a litestar Store on the database, and a session backend that
writes nothing for anonymous visitors and gives a fresh session id at sign-in (no fixation)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Empty
from litestar.utils.dataclass import extract_dataclass_items
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.db import Database, dialect_insert
from service.models import Base, DeskSession
from service.settings import Env, Settings

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.types import Message, ScopeSession

DESK_SESSION_STORE = "desk_sessions"
RENEW_EVERY = timedelta(minutes=1)  # idle expiry is kept to the minute
ROTATE = "_rotate"  # set by sign-in: the next response carries a new session id


def _hashed(key: str) -> str:
    # A copy of the table is not a set of live session cookies.
    return hashlib.sha256(key.encode()).hexdigest()


def _seconds(value: int | timedelta | None) -> timedelta | None:
    if value is None:
        return None
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


class DatabaseStore(Store):
    """litestar's Store interface on the `desk_sessions` table, so sessions survive restarts
    and are shared by every instance on the same database."""

    __slots__ = ("database",)

    def __init__(self, database: Database) -> None:
        self.database = database

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        ttl = _seconds(expires_in)
        now = datetime.now(UTC)
        async with self.database.session() as session:
            row = await session.get(DeskSession, _hashed(key))
            if (
                row is not None
                and row.value == data
                and ttl is not None
                and row.expires_at is not None
                and row.expires_at > now + ttl - RENEW_EVERY
            ):
                # Same data, renewed less than a minute ago: spare the write (and SQLite's lock).
                return
        expires_at = now + ttl if ttl else None
        await self.database.write(_upsert, key=_hashed(key), value=data, expires_at=expires_at)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        now = datetime.now(UTC)
        async with self.database.session() as session:
            row = await session.get(DeskSession, _hashed(key))
            if row is None or (row.expires_at is not None and row.expires_at <= now):
                return None
            value = row.value
        if (ttl := _seconds(renew_for)) and row.expires_at is not None:
            await self._renew(key, now + ttl)
        return value

    async def _renew(self, key: str, expires_at: datetime) -> None:
        await self.database.write(_renew, key=_hashed(key), expires_at=expires_at)

    async def delete(self, key: str) -> None:
        await self.database.write(_delete, key=_hashed(key))

    async def delete_all(self) -> None:
        await self.database.write(_delete_all)

    async def delete_expired(self) -> None:
        await self.database.write(_delete_expired, now=datetime.now(UTC))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self.database.session() as session:
            expires_at = await session.scalar(
                select(DeskSession.expires_at).where(DeskSession.key == _hashed(key))
            )
        if expires_at is None:
            return None
        return int((expires_at - datetime.now(UTC)).total_seconds())


def _upsert(session: Session, *, key: str, value: bytes, expires_at: datetime | None) -> None:
    """One upsert: two requests of the same browser at once both succeed (last one wins)."""
    upsert = dialect_insert(session, Base.metadata.tables["desk_sessions"]).values(
        key=key, value=value, expires_at=expires_at
    )
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "expires_at": expires_at}
        )
    )


def _renew(session: Session, *, key: str, expires_at: datetime) -> None:
    session.execute(update(DeskSession).where(DeskSession.key == key).values(expires_at=expires_at))


def _delete(session: Session, *, key: str) -> None:
    session.execute(delete(DeskSession).where(DeskSession.key == key))


def _delete_all(session: Session) -> None:
    session.execute(delete(DeskSession))


def _delete_expired(session: Session, *, now: datetime) -> None:
    session.execute(delete(DeskSession).where(DeskSession.expires_at <= now))


class DeskSessionBackend(ServerSideSessionBackend):
    """Like litestar's, except that an empty session stores nothing (the public pages never
    touch the store) and a session marked `_rotate` moves to a new id."""

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        store = self.config.get_store_from_app(connection.scope["app"])
        headers = MutableScopeHeaders.from_message(message)
        cookie_params = dict(
            extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys())
        )
        old_id = connection.cookies.get(self.config.key)
        if old_id == "null":
            old_id = None
        if scope_session is Empty or not scope_session:
            if old_id:
                await self.delete(old_id, store=store)
                cookie = Cookie(
                    **(cookie_params | {"max_age": 0}), value="null", key=self.config.key, expires=0
                )
                headers.add("Set-Cookie", cookie.to_header(header=""))
            return
        data = dict(cast("dict[str, Any]", scope_session))
        session_id = old_id
        if data.pop(ROTATE, False) or not session_id:
            if old_id:
                await self.delete(old_id, store=store)
            if isinstance(store, DatabaseStore):  # housekeeping, once per sign-in
                await store.delete_expired()
            session_id = self.generate_session_id()
        await self.set(
            session_id=session_id, data=self.serialize_data(data, connection.scope), store=store
        )
        cookie = Cookie(value=session_id, key=self.config.key, **cookie_params)
        headers.add("Set-Cookie", cookie.to_header(header=""))

    def generate_session_id(self) -> str:
        return secrets.token_urlsafe(self.config.session_id_bytes)


@dataclass
class DeskSessionConfig(ServerSideSessionConfig):
    _backend_class = DeskSessionBackend


def session_config(settings: Settings) -> DeskSessionConfig:
    """Desk sessions: server-side (database or Redis), idle expiry, id replaced at sign-in."""
    return DeskSessionConfig(
        key="quote_desk_session",
        max_age=settings.desk_idle_minutes * 60,
        secure=settings.env is Env.production,
        httponly=True,
        samesite="lax",
        store=DESK_SESSION_STORE,
        exclude=["^/static/", "^/healthz", "^/readyz", "^/metrics", "^/api/", "^/schema"],
    )
