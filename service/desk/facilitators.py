"""Facilitators as the desk manages them: the list with recent lead counts, add, edit, disable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.db import Database
from service.desk import messages
from service.models import Facilitator, Lead

RECENT_DAYS = 30


@dataclass(frozen=True, slots=True)
class FacilitatorForm:
    """What the add/edit form posts; lists are comma-separated, empty means "any"."""

    name: str
    email: str
    languages: list[str]
    treatments: list[str]
    destinations: list[str]
    weight: int

    @classmethod
    def parse(cls, form: dict[str, str]) -> tuple[FacilitatorForm, dict[str, str]]:
        errors: dict[str, str] = {}
        name = form.get("name", "").strip()[:200]
        if not name:
            errors["name"] = messages.FACILITATOR_NAME_REQUIRED
        email = form.get("email", "").strip()
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors["email"] = messages.FACILITATOR_EMAIL_INVALID
        weight = form.get("weight", "1").strip()

        def items(key: str) -> list[str]:
            return [v.strip() for v in form.get(key, "").split(",") if v.strip()]

        return (
            cls(
                name=name,
                email=email,
                languages=[v.lower()[:2] for v in items("languages")],
                treatments=items("treatments"),
                destinations=items("destinations"),
                weight=max(1, min(int(weight), 100)) if weight.isdigit() else 1,
            ),
            errors,
        )


@dataclass(frozen=True, slots=True)
class FacilitatorRow:
    facilitator: Facilitator
    recent_leads: int


async def facilitators_with_counts(*, session: AsyncSession, now: datetime) -> list[FacilitatorRow]:
    counts = dict(
        (
            await session.execute(
                select(Lead.facilitator_id, func.count())
                .where(Lead.created_at >= now - timedelta(days=RECENT_DAYS))
                .where(Lead.facilitator_id.is_not(None))
                .group_by(Lead.facilitator_id)
            )
        ).all()
    )
    rows = await session.scalars(
        select(Facilitator).order_by(Facilitator.active.desc(), Facilitator.name)
    )
    return [FacilitatorRow(facilitator=f, recent_leads=counts.get(f.id, 0)) for f in rows]


async def save_facilitator(
    *, database: Database, facilitator_id: int | None, form: FacilitatorForm, now: datetime
) -> Facilitator:
    """Add (no id) or update a facilitator; the email must stay unique."""

    def save(session: Session) -> Facilitator:
        taken = session.scalar(
            select(Facilitator.id).where(func.lower(Facilitator.email) == form.email.lower())
        )
        if taken is not None and taken != facilitator_id:
            raise FacilitatorEmailTaken
        if facilitator_id is None:
            facilitator = Facilitator(created_at=now, active=True)
            session.add(facilitator)
        else:
            found = session.get(Facilitator, facilitator_id)
            if found is None:
                raise LookupError(facilitator_id)
            facilitator = found
        facilitator.name = form.name
        facilitator.email = form.email
        facilitator.languages = form.languages
        facilitator.treatments = form.treatments
        facilitator.destinations = form.destinations
        facilitator.weight = form.weight
        facilitator.updated_at = now
        return facilitator

    return await database.write(save)


async def set_active(
    *, database: Database, facilitator_id: int, active: bool, now: datetime
) -> Facilitator:
    def change(session: Session) -> Facilitator:
        facilitator = session.get(Facilitator, facilitator_id)
        if facilitator is None:
            raise LookupError(facilitator_id)
        facilitator.active = active
        facilitator.updated_at = now
        return facilitator

    return await database.write(change)


async def get_facilitator(*, session: AsyncSession, facilitator_id: int) -> Facilitator | None:
    facilitator: Facilitator | None = await session.get(Facilitator, facilitator_id)
    return facilitator


class FacilitatorEmailTaken(Exception):
    """Another facilitator already uses this email."""
