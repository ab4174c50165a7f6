"""Liveness and readiness probes for load balancers and orchestrators."""

from litestar import Response, get
from litestar.di import NamedDependency

from service.db import Database, ping


@get("/healthz", name="healthz", include_in_schema=True, tags=["operations"], cache=False)
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@get("/readyz", name="readyz", include_in_schema=True, tags=["operations"], cache=False)
async def readyz(database: NamedDependency[Database]) -> Response[dict[str, str]]:
    """The database answers `SELECT 1`; 503 otherwise."""
    if await ping(database):
        return Response({"status": "ok"})
    return Response({"status": "database unavailable"}, status_code=503)
