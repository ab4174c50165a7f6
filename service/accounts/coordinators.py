"""Desk accounts: argon2 password hashes, creation, enabling and disabling, and sign-in with
throttling per address and per account and address, and a bounded slowdown per account."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
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
    max_delay: float,
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> SignInResult:
    """Check the password, throttled so that nobody can lock an account's owner out:

    - an address with `max_failures` failures within `window` (on one account, or on any) is
      refused (throttled) until they age out;
    - an account with `max_failures` failures from anywhere answers more slowly (`pause`
      before the check: 1 s, doubling, at most `max_delay`), but is never refused: the owner,
      from their own address, still signs in.

    Unknown emails are counted and timed like known ones."""
    email = normalise_email(email)
    keys = _Keys.of(email=email, ip=ip)
    counts = dict(
        (
            await session.execute(
                select(SignInFailure.key, func.count())
                .where(SignInFailure.key.in_(keys.all), SignInFailure.created_at > now - window)
                .group_by(SignInFailure.key)
            )
        ).all()
    )
    if any(counts.get(key, 0) >= max_failures for key in keys.stopping):
        await session.commit()  # ends the read
        return SignInResult(coordinator=None, throttled=True)
    coordinator = await session.scalar(select(Coordinator).where(Coordinator.email == email))
    await session.commit()  # ends the read: neither the pause nor the check holds the database
    await pause(slowdown(counts.get(keys.account, 0), max_failures=max_failures, bound=max_delay))
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
            keys=keys,
            window=window,
            now=now,
        )
        coordinator.last_sign_in_at = now
        return SignInResult(coordinator=coordinator)
    await database.write(_failed, keys=keys.all, window=window, now=now)
    return SignInResult(coordinator=None)


@dataclass(frozen=True, slots=True)
class _Keys:
    """The hashed keys one attempt's failure is counted under."""

    account: str  # the account, from anywhere: slows it down
    pair: str  # the account from this address: stops that address for that account
    address: str | None  # this address, on any account: stops the address

    @classmethod
    def of(cls, *, email: str, ip: str | None) -> _Keys:
        return cls(
            account=_failure_key("account", email),
            pair=_failure_key("account+ip", f"{email}|{ip or ''}"),
            address=_failure_key("ip", ip) if ip else None,
        )

    @property
    def stopping(self) -> list[str]:
        return [self.pair] + ([self.address] if self.address else [])

    @property
    def all(self) -> list[str]:
        return [self.account, *self.stopping]


def slowdown(failures: int, *, max_failures: int, bound: float) -> float:
    """Seconds to wait before answering an account with `failures` recent failures."""
    if failures < max_failures:
        return 0
    return float(min(bound, 2 ** min(failures - max_failures, 32)))


def _signed_in(
    session: Session,
    *,
    coordinator_id: int,
    rehashed: str | None,
    keys: _Keys,
    window: timedelta,
    now: datetime,
) -> None:
    stored = session.get(Coordinator, coordinator_id)
    assert stored is not None
    stored.last_sign_in_at = now
    if rehashed:
        stored.password_hash = rehashed
    session.add(DeskAudit(actor=stored.email, action="sign_in", data={}, created_at=now))
    # The owner proved who they are: their account's failures are forgiven, and so are their
    # own typos from this address (as many of the address's failures as were on this account;
    # an address's failures on accounts it cannot sign in to stay counted).
    since = now - window
    own_typos = session.scalar(
        select(func.count()).where(SignInFailure.key == keys.pair, SignInFailure.created_at > since)
    )
    if keys.address and own_typos:
        newest = (
            select(SignInFailure.id)
            .where(SignInFailure.key == keys.address, SignInFailure.created_at > since)
            .order_by(SignInFailure.id.desc())
            .limit(own_typos)
        )
        session.execute(delete(SignInFailure).where(SignInFailure.id.in_(newest)))
    # Everyone's old failures are no longer counted.
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.key.in_([keys.account, keys.pair]) | (SignInFailure.created_at <= since)
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
