"""Prometheus metrics: what each process counts (request latency by route, refused submits) and,
read from the database at scrape time, what every instance shares (leads by status, the outbox
backlog, the send attempts and last heartbeat of every mail worker); the request log line; and
`GET /metrics`, answered only to the token or the addresses the settings give.

Process counters are per process: Prometheus scrapes each instance and sums. Under
`quote-desk run --workers N` the processes share a PROMETHEUS_MULTIPROC_DIR, so that any of
them answers for all. The database's figures are the same whichever instance answers.
"""

from __future__ import annotations

import hmac
import logging
import os
from datetime import datetime
from ipaddress import ip_address
from time import perf_counter
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import Database
from service.leads.queries import status_counts
from service.leads.refusals import Refusal, submit_refused
from service.mail.heartbeat import Pulse, pulse
from service.mail.outbox import Backlog, backlog
from service.settings import Settings

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("service.requests")
# No `_created` series beside each counter: one timestamp per label set, which no alert reads.
disable_created_metrics()  # type: ignore[no-untyped-call]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SUBMIT_ROUTES = {"/quote": 400, "/api/v1/quotes": 422}  # and the status of a validation error
# The text format every Prometheus server reads (what prometheus_client's own server answers).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NOT_ALLOWED = (
    "Metrics are answered to the Bearer token of QUOTE_METRICS_TOKEN, or to a client address "
    "listed in QUOTE_METRICS_ALLOW.\n"
)


REQUEST_SECONDS = Histogram(
    "quote_http_request_duration_seconds",
    "Time to answer a request, by method, route template and status class.",
    ["method", "route", "status"],
)


class RequestObserver:
    """Around the whole app (routing and its error pages included): the latency of every request
    by route template, validation and rate-limit refusals of the submit routes, and in JSON
    mode one log line per request. A path nothing serves is `unmatched`: raw paths (a lead's
    reference, a token) never become labels or log fields."""

    def __init__(self, app: ASGIApp, *, log_requests: bool) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        status = 500  # what the server answers if the app fails before it starts a response

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            self._observe(scope, status, perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope.get("method", "")
        method = method if method in METHODS else "OTHER"
        route = scope.get("path_template") or "unmatched"
        REQUEST_SECONDS.labels(method, route, f"{status // 100}xx").observe(seconds)
        if method == "POST" and route in SUBMIT_ROUTES:
            if status == SUBMIT_ROUTES[route]:
                submit_refused(Refusal.validation)
            elif status == 429:
                submit_refused(Refusal.rate_limit)
        if self.log_requests:
            logger.info(
                "%s %s %d %.1f ms",
                method,
                route,
                status,
                seconds * 1000,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )


def process_registry() -> CollectorRegistry:
    """This process's metrics, or every process's under PROMETHEUS_MULTIPROC_DIR."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


class Snapshot(Collector):
    """What the database says at scrape time; `quote_database_up 0` when it does not answer."""

    def __init__(
        self,
        leads: dict[str, int] | None = None,
        outbox: Backlog | None = None,
        workers: Pulse | None = None,
    ) -> None:
        self.leads, self.outbox, self.workers = leads, outbox, workers

    def collect(self) -> list[Metric]:
        up = GaugeMetricFamily("quote_database_up", "1 when the database answered this scrape.")
        up.add_metric([], 0 if self.leads is None else 1)
        metrics: list[Metric] = [up]
        if self.leads is None or self.outbox is None or self.workers is None:
            return metrics
        leads = GaugeMetricFamily("quote_leads", "Leads stored, by status.", labels=["status"])
        for status, count in self.leads.items():
            leads.add_metric([status], count)
        emails = GaugeMetricFamily(
            "quote_outbox_emails", "Emails not sent (yet), by status.", labels=["status"]
        )
        for status, count in self.outbox.counts.items():
            emails.add_metric([status], count)
        oldest = GaugeMetricFamily(
            "quote_outbox_oldest_due_age_seconds",
            "How long the oldest email that is due has waited (0: none waits).",
        )
        oldest.add_metric([], self.outbox.oldest_due_seconds)
        attempts = CounterMetricFamily(
            "quote_email_send_attempts",
            "Send attempts of every mail worker, by outcome (sent, retry, dead).",
            labels=["outcome"],
        )
        for outcome, total in self.workers.attempts.items():
            attempts.add_metric([outcome], total)
        metrics += [leads, emails, oldest, attempts]
        if self.workers.last_beat is not None:
            beat = GaugeMetricFamily(
                "quote_mail_worker_last_heartbeat_timestamp_seconds",
                "When a mail worker last polled (Unix time).",
            )
            beat.add_metric([], self.workers.last_beat.timestamp())
            metrics.append(beat)
        return metrics


async def read_snapshot(*, database: Database, now: datetime) -> Snapshot:
    try:
        async with database.session() as session:
            return await _snapshot(session=session, now=now)
    except Exception as exc:  # the process's own metrics are still worth answering
        logger.warning("metrics: the database did not answer (%s)", type(exc).__name__)
        return Snapshot()


async def _snapshot(*, session: AsyncSession, now: datetime) -> Snapshot:
    return Snapshot(
        leads=await status_counts(session=session),
        outbox=await backlog(session=session, now=now),
        workers=await pulse(session=session),
    )


def allowed(request: Request[Any, Any, Any], settings: Settings) -> bool:
    if settings.metrics_token:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), settings.metrics_token.encode()
        ):
            return True
    try:
        client = ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(client in network for network in settings.metrics_networks)


@get("/metrics", name="metrics", include_in_schema=False, cache=False)
async def metrics(
    request: Request[Any, Any, Any],
    database: NamedDependency[Database],
    settings: NamedDependency[Settings],
    now: NamedDependency[datetime],
) -> Response[bytes]:
    """Prometheus text format; 401 without the token (when one is set), 403 otherwise."""
    if not allowed(request, settings):
        refused = 401 if settings.metrics_token else 403
        headers = {"WWW-Authenticate": "Bearer"} if settings.metrics_token else {}
        return Response(
            NOT_ALLOWED.encode(), status_code=refused, media_type="text/plain", headers=headers
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(await read_snapshot(database=database, now=now))
    body = generate_latest(process_registry()) + generate_latest(registry)
    return Response(body, media_type=CONTENT_TYPE)
