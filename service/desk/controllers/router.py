"""The desk router: its guard, its dependencies, and how refusals are answered."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Response, Router
from litestar.di import Provide
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
from service.leads.queries import CountsCache
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


def desk_router(settings: Settings) -> Router:
    counts = CountsCache(ttl=settings.desk_counts_seconds)
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
            "counts": Provide(lambda: counts, sync_to_thread=False, use_cache=True),
        },
        exception_handlers={
            SignInRequired: _sign_in_redirect,
            AdminOnly: _admin_only,
            Refused: _refused,
            Conflict: _refused,
        },
        include_in_schema=False,
    )
