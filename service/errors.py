"""The domain's three ways to fail, and the one place every error becomes an answer: a
friendly page for people, JSON for API clients, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

from service.db import is_unavailable

logger = logging.getLogger("service.errors")

# How long a client is asked to wait when the database is away (sent as Retry-After).
RETRY_AFTER_SECONDS = 60
UNAVAILABLE = "The request could not be completed just now: please send it again in a minute."


class DomainError(Exception):
    """Raised by the domain; `message` is written for the person who asked."""

    status_code = HTTP_500_INTERNAL_SERVER_ERROR

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """No such lead, email, facilitator or account."""

    status_code = 404


class Refused(DomainError):
    """Not allowed as things stand (a pipeline move, disabling oneself). The desk goes back to
    the page with the reason; the API answers 409."""

    status_code = 409


class Conflict(DomainError):
    """Clashes with what is stored (an email address already in use)."""

    status_code = 409


PAGES = {
    400: ("Something in the request was not right", "Please go back and try again."),
    403: (
        "This form has expired",
        "For your security the form is only valid for a while. Please go back, reload the "
        "page and send your request again; what you typed is still there when you go back.",
    ),
    404: ("Page not found", "The page you were looking for does not exist or has moved."),
    405: ("Not allowed", "This address cannot be used that way."),
    409: ("This cannot be done now", "Please reload the page: things may have changed."),
    413: (
        "Your request is too large",
        "Please go back, shorten the longest text and send it again.",
    ),
    415: (
        "This kind of request is not accepted",
        "Please go back, reload the page and send the form again.",
    ),
    429: ("Too many requests", "Please wait a minute, then try again."),
    500: (
        "Something went wrong on our side",
        "Your request could not be completed. Please try again in a few minutes.",
    ),
    503: ("Temporarily unavailable", "Please try again in a minute."),
}


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/schema")) or "text/html" not in request.headers.get(
        "accept", ""
    )


def _route(request: Request[Any, Any, Any]) -> str:
    """The route's template, never the path: a personal link's path holds its token."""
    return str(request.scope.get("path_template") or "unmatched")


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, HTTPException) and exc.status_code < HTTP_500_INTERNAL_SERVER_ERROR:
        status, detail, headers = exc.status_code, exc.detail, exc.headers or {}
    elif isinstance(exc, DomainError) and exc.status_code < HTTP_500_INTERNAL_SERVER_ERROR:
        status, headers = exc.status_code, {}
        detail = exc.message or PAGES.get(status, PAGES[400])[0]
    elif is_unavailable(exc):
        # Not a bug: the database (or the network to it) is away. No traceback; the type of
        # the underlying error says which.
        cause = exc.__cause__ or exc
        logger.warning(
            "unavailable: database or network (%s) on %s %s",
            type(cause).__name__,
            request.method,
            _route(request),
        )
        status, detail = HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    elif isinstance(exc, UnicodeDecodeError):
        # A multipart form field that is not UTF-8: litestar's parser fails on it while the
        # CSRF check reads the form, before any handler. The client's bytes, not our bug.
        status, detail, headers = 400, "The request is not valid UTF-8.", {}
    else:
        # The type and where, with the traceback; the engine hides SQL parameters, and no
        # request data is put into the message.
        logger.error(
            "unhandled %s on %s %s",
            type(exc).__name__,
            request.method,
            _route(request),
            exc_info=exc,
        )
        status = getattr(exc, "status_code", HTTP_500_INTERNAL_SERVER_ERROR)
        detail, headers = "Internal Server Error", {}
    if _wants_json(request):
        return Response(
            {"status_code": status, "detail": detail},
            status_code=status,
            media_type=MediaType.JSON,
            headers=headers,
        )
    title, message = PAGES.get(status, PAGES[500] if status >= 500 else PAGES[400])
    return Template(
        template_name="error.html",
        context={"status_code": status, "title": title, "message": message},
        status_code=status,
        headers=headers,
    )
