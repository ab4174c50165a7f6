"""Facilitators, the people and clinics leads are routed to: one input model and one
normalisation for every way in (the `quote-desk facilitator` command and the desk), and the
reads and writes that keep them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import pycountry
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.errors import Conflict, NotFound
from service.languages import LANGUAGES
from service.models import Facilitator, Lead

RECENT_DAYS = 30
MAX_WEIGHT = 100

NAME_REQUIRED = "Enter a name."
NAME_TOO_LONG = "Keep the name to 200 characters or fewer."
EMAIL_INVALID = "Enter a valid email address."
EMAIL_TAKEN = "Another facilitator already uses this email address."
LANGUAGE_UNKNOWN = "Use language codes from: " + ", ".join(LANGUAGES) + "."
COUNTRY_UNKNOWN = "Use a two-letter country code (ISO 3166-1), such as BE for Belgium."
WEIGHT_RANGE = f"The weight is a whole number from 1 to {MAX_WEIGHT}."
NOT_FOUND = "No facilitator has this email address."


def normalise_email(email: str) -> str:
    """The one form a facilitator's address is stored and looked up in: valid, lower-case."""
    return validate_email(email.strip(), check_deliverability=False).normalized.lower()


def normalise(values: Sequence[str]) -> list[str]:
    """Trimmed, lower-case, unique, in the order given; routing compares case-insensitively."""
    seen: dict[str, None] = {}
    for value in values:
        if value.strip():
            seen.setdefault(value.strip().lower(), None)
    return list(seen)


def _items(value: Any) -> Any:
    """A comma-separated string (the desk's form) or a list (the command line)."""
    return value.split(",") if isinstance(value, str) else value


Items = Annotated[list[str], BeforeValidator(_items)]


class FacilitatorInput(BaseModel):
    """A facilitator as added or edited; empty lists mean "any"."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    email: str
    languages: Items = Field(default_factory=list)
    treatments: Items = Field(default_factory=list)
    destinations: Items = Field(default_factory=list)
    weight: int = Field(default=1, ge=1, le=MAX_WEIGHT)
    country: str | None = None  # where they are established, ISO 3166-1 alpha-2; None: not given

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            return normalise_email(value)
        except EmailNotValidError:
            raise ValueError(EMAIL_INVALID) from None

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        codes = normalise(value)
        if any(code not in LANGUAGES for code in codes):
            raise ValueError(LANGUAGE_UNKNOWN)
        return codes

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if not value:
            return None
        code = value.upper()
        if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
            raise ValueError(COUNTRY_UNKNOWN)
        return code

    @field_validator("treatments", "destinations")
    @classmethod
    def _lists(cls, value: list[str]) -> list[str]:
        return normalise(value)


_MESSAGES = {
    ("name", "string_too_long"): NAME_TOO_LONG,
    ("name", ""): NAME_REQUIRED,
    ("email", ""): EMAIL_INVALID,
    ("weight", ""): WEIGHT_RANGE,
    ("country", ""): COUNTRY_UNKNOWN,
}


def input_errors(exc: ValidationError) -> dict[str, str]:
    """One message a person reads per field."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "name"
        message = (
            _MESSAGES.get((field, error["type"]))
            or _MESSAGES.get((field, ""))
            or str(error["msg"]).removeprefix("Value error, ")
        )
        errors.setdefault(field, message)
    return errors


def find_by_email(*, session: Session, email: str) -> Facilitator | None:
    """The facilitator with this address however it is written (case, punycode or Unicode
    domain); compared case-insensitively, so an address stored before normalisation is found
    too."""
    try:
        wanted = normalise_email(email)
    except EmailNotValidError:
        wanted = email.strip().lower()  # no facilitator can have it: found by nothing
    found: Facilitator | None = session.scalar(
        select(Facilitator).where(func.lower(Facilitator.email) == wanted)
    )
    return found


def save_facilitator(
    session: Session, *, facilitator_id: int | None, data: FacilitatorInput, now: datetime
) -> Facilitator:
    """Add (no id) or update a facilitator; its email must stay unique."""
    taken = find_by_email(session=session, email=data.email)
    if taken is not None and taken.id != facilitator_id:
        raise Conflict(EMAIL_TAKEN)
    if facilitator_id is None:
        facilitator = Facilitator(created_at=now, active=True)
        session.add(facilitator)
    else:
        found = session.get(Facilitator, facilitator_id)
        if found is None:
            raise NotFound(NOT_FOUND)
        facilitator = found
    for name, value in data.model_dump().items():
        setattr(facilitator, name, value)
    facilitator.updated_at = now
    session.flush()
    return facilitator


def set_active(
    session: Session,
    *,
    active: bool,
    now: datetime,
    facilitator_id: int | None = None,
    email: str | None = None,
) -> Facilitator:
    """Enable or disable a facilitator, named by id (the desk) or email (the command line)."""
    if facilitator_id is not None:
        facilitator = session.get(Facilitator, facilitator_id)
    else:
        facilitator = find_by_email(session=session, email=email or "")
    if facilitator is None:
        raise NotFound(NOT_FOUND)
    facilitator.active = active
    facilitator.updated_at = now
    return facilitator


def list_facilitators(session: Session) -> list[Facilitator]:
    return list(session.scalars(select(Facilitator).order_by(Facilitator.email)))


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


async def get_facilitator(*, session: AsyncSession, facilitator_id: int) -> Facilitator:
    facilitator = await session.get(Facilitator, facilitator_id)
    if facilitator is None:
        raise NotFound(NOT_FOUND)
    return facilitator


async def facilitator_choices(
    *, session: AsyncSession, active_only: bool = False
) -> list[Facilitator]:
    query = select(Facilitator).order_by(Facilitator.name)
    if active_only:
        query = query.where(Facilitator.active)
    return list(await session.scalars(query))


def form_values(facilitator: Facilitator) -> dict[str, str]:
    """A stored facilitator as the desk's edit form shows it."""
    return {
        "name": facilitator.name,
        "email": facilitator.email,
        "languages": ", ".join(facilitator.languages),
        "treatments": ", ".join(facilitator.treatments),
        "destinations": ", ".join(facilitator.destinations),
        "weight": str(facilitator.weight),
        "country": facilitator.country or "",
    }
