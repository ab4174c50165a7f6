"""The lead pipeline: statuses and the one table of allowed transitions."""

from __future__ import annotations

STATUSES = ("new", "contacted", "quoted", "won", "lost", "spam", "duplicate")

# new -> contacted -> quoted -> won | lost, plus spam and duplicate. A lead marked spam or
# duplicate by mistake can go back to new; won and lost are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"contacted", "spam", "duplicate"}),
    "contacted": frozenset({"quoted", "lost", "spam", "duplicate"}),
    "quoted": frozenset({"won", "lost"}),
    "won": frozenset(),
    "lost": frozenset(),
    "spam": frozenset({"new"}),
    "duplicate": frozenset({"new"}),
}


def allowed_next(status: str) -> tuple[str, ...]:
    """The statuses a lead in `status` may move to, in pipeline order."""
    allowed = TRANSITIONS.get(status, frozenset())
    return tuple(s for s in STATUSES if s in allowed)


def can_move(old: str, new: str) -> bool:
    return new in TRANSITIONS.get(old, frozenset())
