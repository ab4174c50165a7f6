"""Liveness and readiness probes for load balancers and orchestrators.

Readiness also says whether mail is moving: the outbox backlog, and the last heartbeat of any mail
worker on this database. A worker is expected once one has ever written a heartbeat here (a
new deployment that never started one is ready, and its backlog shows that nothing is sent);
from then on, when every worker has been silent for QUOTE_WORKER_SILENT_SECONDS, it is not ready.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency

from service.db import Database, ping
from service.mail.heartbeat import pulse
from service.mail.outbox import backlog
from service.settings import Settings


@get("/healthz", name="healthz", include_in_schema=True, tags=["operations"], cache=False)
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@get("/readyz", name="readyz", include_in_schema=True, tags=["operations"], cache=False)
async def readyz(
    database: NamedDependency[Database],
    settings: NamedDependency[Settings],
    now: NamedDependency[datetime],
) -> Response[dict[str, Any]]:
    """The database answers, and a mail worker polled recently; 503 otherwise. The body gives
    the outbox backlog by status, the age of the oldest due email and the last heartbeat."""
    unavailable = Response({"status": "database unavailable"}, status_code=503)
    if not await ping(database):
        return unavailable
    try:
        async with database.session() as session:
            outbox = await backlog(session=session, now=now)
            heartbeats = await pulse(session=session)
    except Exception:  # gone since the ping: the same answer
        return unavailable
    silent = (now - heartbeats.last_beat).total_seconds() if heartbeats.last_beat else None
    too_long = settings.worker_silent_seconds > 0 and (silent or 0) > settings.worker_silent_seconds
    body = {
        "status": "mail worker silent" if too_long else "ok",
        "outbox": {**outbox.counts, "oldest_due_seconds": round(outbox.oldest_due_seconds, 1)},
        "mail_worker": {
            "last_heartbeat": heartbeats.last_beat.isoformat() if heartbeats.last_beat else None,
            "silent_seconds": round(silent, 1) if silent is not None else None,
        },
    }
    return Response(body, status_code=503 if too_long else 200)
