"""The lead pipeline: its statuses and the one table of allowed moves."""

from __future__ import annotations

from enum import StrEnum


class LeadStatus(StrEnum):
    new = "new"
    contacted = "contacted"
    quoted = "quoted"
    won = "won"
    lost = "lost"
    spam = "spam"
    duplicate = "duplicate"


STATUSES = tuple(LeadStatus)

# new -> contacted -> quoted -> won | lost, plus spam and duplicate. A lead marked spam or
# duplicate by mistake can go back to new; won and lost are final.
TRANSITIONS: dict[LeadStatus, frozenset[LeadStatus]] = {
    LeadStatus.new: frozenset({LeadStatus.contacted, LeadStatus.spam, LeadStatus.duplicate}),
    LeadStatus.contacted: frozenset(
        {LeadStatus.quoted, LeadStatus.lost, LeadStatus.spam, LeadStatus.duplicate}
    ),
    LeadStatus.quoted: frozenset({LeadStatus.won, LeadStatus.lost}),
    LeadStatus.won: frozenset(),
    LeadStatus.lost: frozenset(),
    LeadStatus.spam: frozenset({LeadStatus.new}),
    LeadStatus.duplicate: frozenset({LeadStatus.new}),
}


def allowed_next(status: str) -> tuple[LeadStatus, ...]:
    """The statuses a lead in `status` may move to, in pipeline order."""
    allowed = TRANSITIONS.get(LeadStatus(status), frozenset()) if status in STATUSES else ()
    return tuple(s for s in STATUSES if s in allowed)


def can_move(old: str, new: str) -> bool:
    return new in allowed_next(old)
