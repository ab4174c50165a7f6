"""The desk router: its guard, its dependencies, and how refusals are answered."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Response, Router
from litestar.di import NamedDependency, Provide
from litestar.response import Redirect

from service.accounts.access import AdminOnly, SignInRequired, current_coordinator, desk_guard
from service.desk.controllers.auth import DeskAuth
from service.desk.controllers.coordinators import DeskCoordinators
from service.desk.controllers.facilitators import DeskFacilitators
from service.desk.controllers.leads import DeskLeads
from service.desk.controllers.mail import DeskMail
from service.desk.controllers.stats import DeskStats
from service.desk.controllers.tokens import DeskTokens
from service.desk.controllers.web import AnyRequest, back_to, flash, page
from service.errors import Conflict, Refused
from service.leads.queries import COUNTS_STORE, CountsCache
from service.settings import Settings


def _sign_in_redirect(request: AnyRequest, _: SignInRequired) -> Response[Any]:
    """To the sign-in page; a page asked for (GET) is where sign-in leads back to."""
    target = request.app.route_reverse("desk:sign-in")
    if request.method == "GET" and request.url.path != "/desk/":
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target += "?" + urlencode({"next": wanted})
    return Redirect(target, status_code=303)


def _admin_only(request: AnyRequest, exc: AdminOnly) -> Response[Any]:
    return page(request, "forbidden.html", status_code=403, message=exc.detail)


def _refused(request: AnyRequest, exc: Refused | Conflict) -> Response[Any]:
    """An action that is not allowed: back to the page it came from, with the reason. (Not
    found is the app's own 404 page.)"""
    flash(request, exc.message, error=True)
    params = request.path_params
    if "lead_id" in params:
        return back_to(request, "desk:lead", lead_id=params["lead_id"])
    if "outbox_id" in params:
        return back_to(request, "desk:mail:message", outbox_id=params["outbox_id"])
    if "coordinator_id" in params:
        return back_to(request, "desk:coordinators")
    return back_to(request, "desk:leads")


def _counts(request: AnyRequest, settings: NamedDependency[Settings]) -> CountsCache:
    """The counts per status, in the app's shared store (Redis with QUOTE_REDIS_URL)."""
    return CountsCache(ttl=settings.desk_counts_seconds, store=request.app.stores.get(COUNTS_STORE))


def desk_router(settings: Settings) -> Router:
    return Router(
        path="/desk",
        route_handlers=[
            DeskAuth,
            DeskLeads,
            DeskMail,
            DeskFacilitators,
            DeskStats,
            DeskTokens,
            DeskCoordinators,
        ],
        guards=[desk_guard],
        dependencies={
            "coordinator": Provide(current_coordinator, sync_to_thread=False),
            "counts": Provide(_counts, sync_to_thread=False),
        },
        exception_handlers={
            SignInRequired: _sign_in_redirect,
            AdminOnly: _admin_only,
            Refused: _refused,
            Conflict: _refused,
        },
        include_in_schema=False,
    )
