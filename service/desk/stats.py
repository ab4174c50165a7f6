"""The funnel at a glance: leads per day, by status, facilitator and country, email delivery,
how fast a lead is first handled, and how each facilitator answers (requests received, response
rate, time to first response, quotes, declines by reason, overdue). Charts are plain geometry
for server-side SVG."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.desk.mail_log import mail_counts
from service.leads.queries import (
    CountedBy,
    counts_by,
    median_first_change,
    per_day,
    status_counts,
)
from service.leads.responses import DECLINE_REASONS, ResponseAction
from service.mail.outbox import OutboxStatus
from service.models import Facilitator, LeadAssignment, LeadResponse

DAYS = 90
TOP = 12


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Chart:
    """Bars laid out in a viewBox of `width` x `height`."""

    bars: list[Bar]
    width: int
    height: int
    horizontal: bool
    peak: int


def columns(points: list[tuple[str, int]], *, width: int = 900, height: int = 200) -> Chart:
    """One vertical column per point (leads per day)."""
    peak = max((v for _, v in points), default=0) or 1
    step = width / max(len(points), 1)
    bars = [
        Bar(
            label=label,
            value=value,
            x=i * step,
            y=height - value / peak * height,
            width=max(step - 1, 1),
            height=value / peak * height,
        )
        for i, (label, value) in enumerate(points)
    ]
    return Chart(bars=bars, width=width, height=height, horizontal=False, peak=peak)


def rows(points: list[tuple[str, int]], *, width: int = 600, row: int = 24) -> Chart:
    """One horizontal bar per category, the label left of the bar (drawn by the template)."""
    peak = max((v for _, v in points), default=0) or 1
    label_width = 200
    bars = [
        Bar(
            label=label,
            value=value,
            x=label_width,
            y=i * row + 3,
            width=max(value / peak * (width - label_width - 60), 0),
            height=row - 6,
        )
        for i, (label, value) in enumerate(points)
    ]
    return Chart(
        bars=bars, width=width, height=max(len(points), 1) * row, horizontal=True, peak=peak
    )


@dataclass(frozen=True, slots=True)
class FacilitatorAnswers:
    """One facilitator's record with the requests they received in the period."""

    name: str
    received: int
    answered: int
    median_first_response: timedelta | None
    quotes: int
    declines: dict[str, int]  # by reason, every reason present
    overdue: int

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.received if self.received else None


@dataclass(frozen=True, slots=True)
class Stats:
    since: date
    per_day: list[tuple[str, int]]
    by_status: list[tuple[str, int]]
    by_facilitator: list[tuple[str, int]]
    by_country: list[tuple[str, int]]
    mail: dict[str, int]
    delivery_rate: float | None
    median_first_change: timedelta | None
    charts: dict[str, Chart]
    facilitators: list[FacilitatorAnswers]
    declines: list[tuple[str, int]]  # every reason, all facilitators


async def funnel(*, session: AsyncSession, now: datetime) -> Stats:
    since = (now - timedelta(days=DAYS - 1)).date()
    start = datetime.combine(since, datetime.min.time(), now.tzinfo)

    days = await per_day(session=session, since=since)
    per_day_points = [
        (str(since + timedelta(days=i)), days.get(since + timedelta(days=i), 0))
        for i in range(DAYS)
    ]
    by_status = list((await status_counts(session=session)).items())
    found = await session.execute(select(Facilitator.id, Facilitator.name))
    names = {row.id: row.name for row in found}
    routed: dict[str, int] = {}
    for value, n in (
        await counts_by(session=session, dimension=CountedBy.facilitator, since=since)
    ).items():
        name = names.get(int(value), "Unrouted") if value else "Unrouted"
        routed[name] = routed.get(name, 0) + n
    by_facilitator = sorted(routed.items(), key=lambda item: -item[1])
    countries = await counts_by(session=session, dimension=CountedBy.country, since=since)
    by_country = sorted(countries.items(), key=lambda item: -item[1])[:TOP]
    mail = await mail_counts(session=session)
    finished = mail[OutboxStatus.sent] + mail[OutboxStatus.dead]
    delivery_rate = mail[OutboxStatus.sent] / finished if finished else None
    median = await median_first_change(session=session, since=since)
    answering = await facilitator_answers(session=session, start=start)
    declines = [
        (label, sum(f.declines[label] for f in answering)) for label in DECLINE_REASONS.values()
    ]
    ranked = answering[:TOP]
    return Stats(
        since=since,
        per_day=per_day_points,
        by_status=by_status,
        by_facilitator=by_facilitator,
        by_country=by_country,
        mail=mail,
        delivery_rate=delivery_rate,
        median_first_change=median,
        charts={
            "per_day": columns(per_day_points),
            "by_status": rows(by_status),
            "by_facilitator": rows(by_facilitator[:TOP]),
            "by_country": rows(by_country),
            "received": rows([(f.name, f.received) for f in ranked]),
            "response_rate": rows([(f.name, round((f.response_rate or 0) * 100)) for f in ranked]),
            "first_response": rows(
                [
                    (f.name, round(f.median_first_response.total_seconds() / 3600))
                    for f in ranked
                    if f.median_first_response is not None
                ]
            ),
            "declines": rows(declines),
        },
        facilitators=answering,
        declines=declines,
    )


async def facilitator_answers(
    *, session: AsyncSession, start: datetime
) -> list[FacilitatorAnswers]:
    """Per facilitator, the requests (turns) they received since `start` and what they did with
    them; most requests first."""
    found = await session.execute(select(Facilitator.id, Facilitator.name))
    names = {row.id: row.name for row in found}
    since = LeadAssignment.assigned_at >= start
    counts = (
        await session.execute(
            select(
                LeadAssignment.facilitator_id,
                func.count(),
                func.count(LeadAssignment.responded_at),
                func.count(LeadAssignment.overdue_at),
            )
            .where(since)
            .group_by(LeadAssignment.facilitator_id)
        )
    ).all()
    waits: dict[int | None, list[float]] = {}
    answered = await session.execute(
        select(
            LeadAssignment.facilitator_id, LeadAssignment.assigned_at, LeadAssignment.responded_at
        ).where(since, LeadAssignment.responded_at.is_not(None))
    )
    for facilitator_id, assigned_at, responded_at in answered:
        if responded_at is not None:
            wait = (responded_at - assigned_at).total_seconds()
            waits.setdefault(facilitator_id, []).append(wait)
    by_action = (
        await session.execute(
            select(
                LeadAssignment.facilitator_id,
                LeadResponse.action,
                LeadResponse.reason,
                func.count(),
            )
            .join(LeadAssignment, LeadAssignment.id == LeadResponse.assignment_id)
            .where(since, LeadResponse.action.in_((ResponseAction.quoted, ResponseAction.declined)))
            .group_by(LeadAssignment.facilitator_id, LeadResponse.action, LeadResponse.reason)
        )
    ).all()
    quotes: dict[int | None, int] = {}
    declines: dict[int | None, dict[str, int]] = {}
    for facilitator_id, action, reason, n in by_action:
        if action == ResponseAction.quoted:
            quotes[facilitator_id] = quotes.get(facilitator_id, 0) + n
        else:
            label = DECLINE_REASONS.get(reason or "", reason or "no reason")
            per = declines.setdefault(facilitator_id, dict.fromkeys(DECLINE_REASONS.values(), 0))
            per[label] = per.get(label, 0) + n
    result = [
        FacilitatorAnswers(
            name=names.get(facilitator_id, "A removed facilitator")
            if facilitator_id is not None
            else "A removed facilitator",
            received=received,
            answered=responded,
            median_first_response=(
                timedelta(seconds=statistics.median(waits[facilitator_id]))
                if waits.get(facilitator_id)
                else None
            ),
            quotes=quotes.get(facilitator_id, 0),
            declines=declines.get(facilitator_id, dict.fromkeys(DECLINE_REASONS.values(), 0)),
            overdue=overdue,
        )
        for facilitator_id, received, responded, overdue in counts
    ]
    return sorted(result, key=lambda f: (-f.received, f.name))
