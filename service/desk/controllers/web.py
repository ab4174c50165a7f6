"""What every desk handler shares: the page with its flash message, redirects, forms."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Redirect, Template

AnyRequest = Request[Any, Any, Any]


def flash(request: AnyRequest, message: str, *, error: bool = False) -> None:
    request.session["flash"] = {"message": message, "error": error}


def page(request: AnyRequest, template: str, *, status_code: int = 200, **context: Any) -> Template:
    """A desk page: the signed-in coordinator and any message left by the last action."""
    shown = request.session.pop("flash", None) if "session" in request.scope else None
    coordinator = getattr(request.state, "coordinator", None)
    return Template(
        template_name=f"desk/{template}",
        context={"coordinator": coordinator, "flash": shown, **context},
        status_code=status_code,
    )


def back_to(request: AnyRequest, name: str, **params: Any) -> Redirect:
    return Redirect(request.app.route_reverse(name, **params), status_code=303)


async def form_of(request: AnyRequest) -> dict[str, str]:
    posted = await request.form()
    return {key: str(value) for key, value in posted.items()}


def client_ip(request: AnyRequest) -> str | None:
    return request.client.host if request.client else None
