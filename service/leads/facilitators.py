"""Facilitators: adding, listing and disabling the people and clinics that receive leads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Facilitator


class FacilitatorNotFound(LookupError):
    """No facilitator has this email address."""


def normalise(values: Sequence[str]) -> list[str]:
    """Trimmed, lower-case, unique, in the order given; routing compares case-insensitively."""
    seen: dict[str, None] = {}
    for value in values:
        if value.strip():
            seen.setdefault(value.strip().lower(), None)
    return list(seen)


def add_facilitator(
    *,
    session: Session,
    name: str,
    email: str,
    now: datetime,
    languages: Sequence[str] = (),
    treatments: Sequence[str] = (),
    destinations: Sequence[str] = (),
    weight: int = 1,
) -> Facilitator:
    """Insert a facilitator; the caller owns the transaction (the email must be new)."""
    if weight < 1:
        raise ValueError("the weight must be at least 1")
    if not 1 <= len(name.strip()) <= 200:
        raise ValueError("the name must have 1 to 200 characters")
    facilitator = Facilitator(
        name=name.strip(),
        email=email.strip().lower(),
        languages=normalise(languages),
        treatments=normalise(treatments),
        destinations=normalise(destinations),
        weight=weight,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(facilitator)
    session.flush()
    return facilitator


def find_by_email(*, session: Session, email: str) -> Facilitator | None:
    found: Facilitator | None = session.scalar(
        select(Facilitator).where(Facilitator.email == email.strip().lower())
    )
    return found


def list_facilitators(*, session: Session) -> list[Facilitator]:
    return list(session.scalars(select(Facilitator).order_by(Facilitator.email)))


def set_active(*, session: Session, email: str, active: bool, now: datetime) -> None:
    """Enable or disable by email; the caller owns the transaction."""
    facilitator = find_by_email(session=session, email=email)
    if facilitator is None:
        raise FacilitatorNotFound(email)
    facilitator.active = active
    facilitator.updated_at = now
