"""Desk accounts: argon2 password hashes, creation, enabling and disabling, and sign-in with
throttling per account and per IP."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.accounts import messages
from service.db import Database
from service.errors import Conflict, NotFound, Refused
from service.models import Coordinator, DeskAudit, SignInFailure

ROLES = ("admin", "coordinator")
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()
# Verified against when the email is unknown, so an unknown email costs the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


@dataclass(frozen=True, slots=True)
class SignInResult:
    coordinator: Coordinator | None
    throttled: bool = False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _failure_key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


class PasswordTooShort(Refused):
    """The password is shorter than MIN_PASSWORD_LENGTH."""

    def __init__(self) -> None:
        super().__init__(messages.PASSWORD_TOO_SHORT.format(min=MIN_PASSWORD_LENGTH))


async def create_coordinator(
    *, database: Database, email: str, password: str, role: str, now: datetime
) -> Coordinator:
    """Hash the password (CPU: off the event loop, before the write) and store the account."""
    if role not in ROLES:
        raise Refused(messages.ROLE_UNKNOWN)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    return await database.write(
        store_coordinator,
        email=normalise_email(email),
        password_hash=password_hash,
        role=role,
        now=now,
    )


def store_coordinator(
    session: Session, *, email: str, password_hash: str, role: str, now: datetime
) -> Coordinator:
    if session.scalar(select(Coordinator.id).where(Coordinator.email == email)):
        raise Conflict(messages.COORDINATOR_EXISTS)
    coordinator = Coordinator(
        email=email, password_hash=password_hash, role=role, active=True, created_at=now
    )
    session.add(coordinator)
    return coordinator


async def sign_in(
    *,
    session: AsyncSession,
    database: Database,
    email: str,
    password: str,
    ip: str | None,
    now: datetime,
    max_failures: int,
    window: timedelta,
) -> SignInResult:
    """Check the password; count failures per account and per IP, and refuse while either key
    has `max_failures` within `window`. Unknown emails are counted and timed like known ones."""
    email = normalise_email(email)
    keys = [_failure_key("account", email)]
    if ip:
        keys.append(_failure_key("ip", ip))
    recent = await session.execute(
        select(SignInFailure.key, func.count())
        .where(SignInFailure.key.in_(keys), SignInFailure.created_at > now - window)
        .group_by(SignInFailure.key)
    )
    if any(count >= max_failures for _, count in recent.all()):
        await session.commit()  # ends the read
        return SignInResult(coordinator=None, throttled=True)
    coordinator = await session.scalar(select(Coordinator).where(Coordinator.email == email))
    await session.commit()  # ends the read: the password check must not hold the database
    # Argon2 takes tens of milliseconds of CPU: off the event loop, and outside any write
    # transaction (on SQLite a write would make every patient's submit wait for it).
    stored_hash = coordinator.password_hash if coordinator else _DUMMY_HASH
    verified = await asyncio.to_thread(_verified, stored_hash, password)
    if verified and coordinator is not None and coordinator.active:
        rehashed = (
            await asyncio.to_thread(_hasher.hash, password)
            if _hasher.check_needs_rehash(stored_hash)
            else None
        )
        await database.write(
            _signed_in,
            coordinator_id=coordinator.id,
            rehashed=rehashed,
            forgiven=keys[0],
            window=window,
            now=now,
        )
        coordinator.last_sign_in_at = now
        return SignInResult(coordinator=coordinator)
    await database.write(_failed, keys=keys, window=window, now=now)
    return SignInResult(coordinator=None)


def _signed_in(
    session: Session,
    *,
    coordinator_id: int,
    rehashed: str | None,
    forgiven: str,
    window: timedelta,
    now: datetime,
) -> None:
    stored = session.get(Coordinator, coordinator_id)
    assert stored is not None
    stored.last_sign_in_at = now
    if rehashed:
        stored.password_hash = rehashed
    session.add(DeskAudit(actor=stored.email, action="sign_in", data={}, created_at=now))
    # This account's failures are forgiven; everyone's old ones are no longer counted.
    session.execute(
        delete(SignInFailure).where(
            (SignInFailure.key == forgiven) | (SignInFailure.created_at <= now - window)
        )
    )


def _failed(session: Session, *, keys: list[str], window: timedelta, now: datetime) -> None:
    session.add_all(SignInFailure(key=key, created_at=now) for key in keys)
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.key.in_(keys), SignInFailure.created_at <= now - window
        )
    )


def _verified(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def active_coordinator(*, session: AsyncSession, coordinator_id: int) -> Coordinator | None:
    coordinator = await session.get(Coordinator, coordinator_id)
    return coordinator if coordinator is not None and coordinator.active else None


async def register_coordinator(
    *, database: Database, email: str, password: str, role: str, now: datetime
) -> dict[str, str]:
    """Create an account from the desk's form: the field errors a person reads, or {}."""
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized
        await create_coordinator(
            database=database,
            email=email,
            password=password,
            role=role if role in ROLES else "coordinator",
            now=now,
        )
    except EmailNotValidError:
        return {"email": messages.COORDINATOR_EMAIL_INVALID}
    except Conflict as exc:
        return {"email": exc.message}
    except PasswordTooShort as exc:
        return {"password": exc.message}
    return {}


async def list_coordinators(*, session: AsyncSession) -> list[Coordinator]:
    return list(await session.scalars(select(Coordinator).order_by(Coordinator.email)))


def set_coordinator_active(
    session: Session, *, coordinator_id: int, active: bool, by: Coordinator
) -> Coordinator:
    """Enable or disable an account; a disabled account's sessions stop working at once
    (the guard checks `active` on every request). Nobody can disable themselves."""
    if coordinator_id == by.id and not active:
        raise Refused(messages.COORDINATOR_SELF)
    coordinator = session.get(Coordinator, coordinator_id)
    if coordinator is None:
        raise NotFound(messages.COORDINATOR_NOT_FOUND)
    coordinator.active = active
    return coordinator
