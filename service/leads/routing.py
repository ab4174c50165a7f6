"""Choosing the facilitator for a new lead, inside the lead's own write transaction.

Candidates serve the lead's treatment and destination; those who speak the lead's language
are preferred; the least loaded relative to its weight wins, ties drawn at random so that
equal facilitators share the leads instead of the first one in some order getting them all.
A lead routed again (declined, or left unanswered) leaves out the facilitators it passed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, Protocol, TypeVar

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from service.facilitators import find_by_email, normalise_email
from service.leads.queries import CountedBy
from service.leads.timeline import EventKind, event_row
from service.models import Facilitator, Lead, LeadCount

LOAD_WINDOW = timedelta(days=30)
DEFAULT_FACILITATOR_NAME = "Default facilitator"

_T = TypeVar("_T")
# Built once (a submit's statements cost more to build than to run), their values given to
# execute().
_ACTIVE = select(Facilitator).where(Facilitator.active.is_(True))
# A facilitator's leads since the UTC day LOAD_WINDOW ago, from the daily counts the triggers
# on `leads` keep (a few rows per facilitator and day): the count does not grow with the table.
_RECENT_LEADS = (
    select(LeadCount.value, func.sum(LeadCount.count))
    .where(
        LeadCount.dimension == CountedBy.facilitator,
        LeadCount.value.in_(bindparam("ids", expanding=True)),
        LeadCount.day >= bindparam("since"),
    )
    .group_by(LeadCount.value)
)


class Chooser(Protocol):
    def choice(self, seq: Sequence[_T], /) -> _T: ...


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    facilitator: Facilitator | None
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def routed(self) -> bool:
        return self.facilitator is not None


def serves(offered: Sequence[str], wanted: str | None) -> bool:
    """An empty list serves anything; otherwise a case-insensitive match."""
    if not offered:
        return True
    return (wanted or "").strip().lower() in {item.strip().lower() for item in offered}


def route_lead(
    *,
    session: Session,
    lead: Lead,
    now: datetime,
    default_facilitator_email: str | None,
    follows_up: Lead | None = None,
    rng: Chooser = random,  # the module itself: its choice() is the shared generator
    exclude: frozenset[int] = frozenset(),
) -> RoutingDecision:
    """Choose the facilitator for `lead` and set `lead.facilitator_id` (empty when none), never
    one of `exclude` (those who declined it or let it pass), not even the default one. A
    follow-up goes to the facilitator who has the request it `follows_up`, while they are
    active; otherwise it is routed like any lead."""
    decision = _same_facilitator(session=session, first=follows_up, exclude=exclude) or _choose(
        session=session,
        lead=lead,
        now=now,
        default_email=default_facilitator_email,
        rng=rng,
        exclude=exclude,
    )
    lead.facilitator_id = decision.facilitator.id if decision.facilitator else None
    return decision


def routing_event(*, lead: Lead, decision: RoutingDecision, now: datetime) -> dict[str, Any]:
    """The `routed` (or `unrouted`) line of the lead's timeline: the choice and its reason."""
    data: dict[str, Any] = {"reason": decision.reason, "language": lead.language}
    data |= decision.details
    if decision.facilitator is not None:
        data |= {
            "facilitator_id": decision.facilitator.id,
            "facilitator": decision.facilitator.email,
            "facilitator_name": decision.facilitator.name,
        }
    kind = EventKind.routed if decision.routed else EventKind.unrouted
    return event_row(lead_id=lead.id, kind=kind, now=now, data=data)


def _same_facilitator(
    *, session: Session, first: Lead | None, exclude: frozenset[int]
) -> RoutingDecision | None:
    if first is None or first.facilitator_id is None or first.facilitator_id in exclude:
        return None
    facilitator = session.get(Facilitator, first.facilitator_id)
    if facilitator is None or not facilitator.active:
        return None
    return RoutingDecision(
        facilitator=facilitator,
        reason=f"follow-up of {first.reference}: the facilitator who has that request",
        details={"follow_up_of": first.reference},
    )


def _choose(
    *,
    session: Session,
    lead: Lead,
    now: datetime,
    default_email: str | None,
    rng: Chooser,
    exclude: frozenset[int],
) -> RoutingDecision:
    active = list(session.scalars(_ACTIVE))
    serving = [
        f
        for f in active
        if f.weight > 0
        and serves(f.treatments, lead.treatment)
        and serves(f.destinations, lead.destination)
    ]
    matching = [f for f in serving if f.id not in exclude]
    passed = len(serving) - len(matching)
    if matching:
        speakers = [f for f in matching if serves(f.languages, lead.language)]
        pool = speakers or matching
        loads = _recent_leads(session=session, ids=[f.id for f in pool], since=now - LOAD_WINDOW)
        scores = {f.id: Fraction(loads.get(f.id, 0), f.weight) for f in pool}
        lowest = min(scores.values())
        tied = [f for f in pool if scores[f.id] == lowest]
        chosen = rng.choice(tied)
        reason = (
            f"speaks {lead.language}, fewest recent leads for its weight"
            if speakers
            else f"nobody speaks {lead.language}; fewest recent leads for its weight"
        )
        details = {
            "candidates": len(matching),
            "language_match": bool(speakers),
            "tied": len(tied),
            "recent_leads": loads.get(chosen.id, 0),
            "weight": chosen.weight,
        }
        return RoutingDecision(facilitator=chosen, reason=reason, details=details)

    if not default_email:
        return RoutingDecision(
            facilitator=None,
            reason=_nobody_left(passed)
            or "no active facilitator serves this treatment and destination, "
            "and no default facilitator is set",
        )
    fallback = find_by_email(session=session, email=default_email)
    if fallback is not None and fallback.id in exclude:
        return RoutingDecision(
            facilitator=None,
            reason=_nobody_left(passed) or "the default facilitator already passed on it",
        )
    if fallback is None:
        # Created on first use so that QUOTE_DEFAULT_FACILITATOR_EMAIL alone is enough; a
        # concurrent creation fails the transaction on the unique email, and create_lead
        # retries it.
        fallback = Facilitator(
            name=DEFAULT_FACILITATOR_NAME,
            email=normalise_email(default_email),
            languages=[],
            treatments=[],
            destinations=[],
            weight=1,
            active=True,
            created_at=now,
            updated_at=now,
        )
        session.add(fallback)
        session.flush()
    elif not fallback.active:
        return RoutingDecision(
            facilitator=None,
            reason="no active facilitator matches and the default facilitator is disabled",
        )
    reason = (
        "every facilitator who serves this treatment and destination passed on it: "
        "default facilitator"
        if passed
        else "no active facilitator serves this treatment and destination: default facilitator"
    )
    return RoutingDecision(
        facilitator=fallback, reason=reason, details={"candidates": 0, "default": True}
    )


def _nobody_left(passed: int) -> str:
    if not passed:
        return ""
    return (
        f"every facilitator who serves this treatment and destination ({passed}) declined it "
        "or let it pass, and no other is left"
    )


def _recent_leads(*, session: Session, ids: list[int], since: datetime) -> dict[int, int]:
    rows = session.execute(_RECENT_LEADS, {"ids": [str(i) for i in ids], "since": since.date()})
    return {int(facilitator_id): int(count) for facilitator_id, count in rows}
