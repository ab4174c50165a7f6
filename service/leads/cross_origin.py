"""Which web pages may call the quotes API: this site's own and the origins listed in
QUOTE_API_ALLOWED_ORIGINS (answered with CORS); a page on any other site is refused, so no site
can make its visitors' browsers send quote requests (and confirmations to addresses of its
choosing). Programs on servers send no Origin and are not concerned."""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.leads import messages
from service.settings import Settings

METHODS = "POST"
REQUEST_HEADERS = "Content-Type, Idempotency-Key"
EXPOSED_HEADERS = "Idempotent-Replayed, Retry-After"
PREFLIGHT_SECONDS = 600


def same_origin(origin: str, *, host: str | None, settings: Settings) -> bool:
    """The page calling is this site's own: the public address, or the host asked for."""
    if origin == _origin(settings.public_base_url):
        return True
    parts = urlsplit(origin)
    return bool(host) and parts.scheme in ("http", "https") and parts.netloc == (host or "").lower()


def _origin(url: str) -> str:
    parts = urlsplit(url.strip().lower())
    return f"{parts.scheme}://{parts.netloc}"


class CrossOrigin(ASGIMiddleware):
    """Refuses browsers' requests from other sites (403) and answers CORS for listed ones."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        settings: Settings = scope["litestar_app"].state["settings"]
        headers = Headers.from_scope(scope)
        origin = (headers.get("origin") or "").strip().lower() or None
        listed = origin is not None and origin in settings.api_origins
        if (
            scope.get("method") == "OPTIONS"
            and origin is not None
            and "access-control-request-method" in headers
        ):
            if not listed:
                raise PermissionDeniedException(detail=messages.API_OTHER_SITE)
            await _preflight(origin).to_asgi_response(app=None, request=Request(scope))(
                scope, receive, send
            )
            return
        if not listed and _from_another_site(origin, headers=headers, settings=settings):
            raise PermissionDeniedException(detail=messages.API_OTHER_SITE)
        await next_app(scope, receive, _with_cors(send, origin) if listed and origin else send)


def _from_another_site(origin: str | None, *, headers: Headers, settings: Settings) -> bool:
    if origin is not None:
        return not same_origin(origin, host=headers.get("host"), settings=settings)
    # Browsers send Origin with every cross-origin POST; Sec-Fetch-Site says so too.
    return headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site")


def _preflight(origin: str) -> Response[None]:
    """Yes to a listed origin asking whether it may POST JSON (never with credentials)."""
    return Response(
        content=None,
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": METHODS,
            "Access-Control-Allow-Headers": REQUEST_HEADERS,
            "Access-Control-Max-Age": str(PREFLIGHT_SECONDS),
            "Vary": "Origin",
        },
    )


def _with_cors(send: Send, origin: str) -> Send:
    """Every answer to a listed origin is readable by its page: 201, 422, 409 alike."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableScopeHeaders.from_message(message)
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            vary = headers.get("vary")
            headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
        await send(message)

    return wrapped
