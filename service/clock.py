"""The one source of "now": timezone-aware UTC. The app and the worker take a `Clock`, so a
test can move time without patching anything."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
