"""HTTP for the patient journey: the landing page and form, the thank-you page, the JSON API."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from html import escape as html_escape
from itertools import cycle
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.response import Redirect, Template
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState
from markupsafe import escape
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from service.content.documents import article, legal_texts
from service.db import Database, DatabaseUnavailable
from service.errors import RETRY_AFTER_SECONDS, Conflict, NotFound
from service.languages import LANGUAGES
from service.leads import antispam, messages
from service.leads.cross_origin import CrossOrigin
from service.leads.refusals import RATE_LIMITED
from service.leads.schemas import (
    CONTACT_METHODS,
    PATIENT_RELATIONS,
    STROKE_TYPES,
    UTM_FIELDS,
    QuoteRequest,
    countries,
    field_errors,
)
from service.leads.submit import LANDING_ARTICLE, Client, create_lead, find_by_reference
from service.settings import Settings

FORM_FIELDS = (
    *(name for name in QuoteRequest.model_fields if name not in UTM_FIELDS),
    antispam.HONEYPOT_FIELD,
)
TRACKING_FIELDS = (*UTM_FIELDS, "referrer")
SUBMISSION_FIELDS = ("submission_id", "form_ts")
# The hidden fields of a fresh landing page, in the order the page shows them.
FRESH_FIELDS = (*SUBMISSION_FIELDS, *TRACKING_FIELDS)


@dataclass(frozen=True, slots=True)
class Choices:
    countries: tuple[tuple[str, str], ...]
    languages: tuple[tuple[str, str], ...]
    patient_relations: tuple[tuple[str, str], ...]
    stroke_types: tuple[tuple[str, str], ...]
    contact_methods: tuple[tuple[str, str], ...]


@cache
def form_choices() -> Choices:
    return Choices(
        countries=countries(),
        languages=tuple(LANGUAGES.items()),
        patient_relations=tuple(PATIENT_RELATIONS.items()),
        stroke_types=tuple(STROKE_TYPES.items()),
        contact_methods=tuple(CONTACT_METHODS.items()),
    )


def client_of(request: Request[Any, Any, Any], source: str) -> Client:
    user_agent = request.headers.get("user-agent")
    return Client(
        ip=request.client.host if request.client else None,
        user_agent=user_agent[:512] if user_agent else None,
        source=source,
    )


def hidden_fields(
    settings: Settings,
    *,
    now: datetime,
    tracking: dict[str, str],
    submission: dict[str, str] | None = None,
) -> dict[str, str]:
    """The form's hidden fields (FRESH_FIELDS): a new submission's id and its signed render
    time (or those of `submission`, to be sent again as the same request), and the tracking."""
    submission_id = uuid.uuid4().hex
    return {
        "submission_id": submission_id,
        "form_ts": antispam.sign_render_time(
            secret=settings.secret_key, now=now, submission_id=submission_id
        ),
        **(submission or {}),
        **{name: tracking.get(name, "") for name in TRACKING_FIELDS},
    }


def landing_page(
    request: Request[Any, Any, Any],
    settings: Settings,
    *,
    now: datetime,
    values: dict[str, str],
    errors: dict[str, str],
    tracking: dict[str, str],
    status_code: int = 200,
    notice: str | None = None,
    submission: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Template:
    """The article and the form; `submission` keeps the hidden `submission_id` and `form_ts`
    of a request that must be sent again as the same request."""
    doc = article(LANDING_ARTICLE)
    hidden = hidden_fields(settings, now=now, tracking=tracking, submission=submission)
    form = {"treatment": doc.treatment, "destination": doc.destination, **values}
    return Template(
        template_name="landing.html",
        context={
            "article": doc,
            "legal": legal_texts(),
            "form": form,
            "errors": errors,
            "notice": notice,
            "choices": form_choices(),
            "hidden": hidden,
            "action": request.app.route_reverse("quote:submit"),
            "response_hours": settings.response_hours,
        },
        status_code=status_code,
        headers=headers,
    )


# The landing page as a reader first gets it (no values typed, no errors, no notice) is the same
# for everyone but its hidden fields and CSRF token: it is rendered once per app with a marker in
# each of their places, and each request only fills them in (rendering the template was most of
# GET /'s time). The markers are text that neither escaping nor the template changes.
_MARKER = re.compile("\x00qd:([a-z_]+)\x00")
_FRESH_PAGE = "quote_desk_fresh_landing"
_CSRF_INPUT = '<input type="hidden" name="_csrf_token" value="{}" />'  # as litestar's Template


def _marker(name: str) -> str:
    return f"\x00qd:{name}\x00"


def fresh_landing_page(
    request: Request[Any, Any, Any], settings: Settings, *, now: datetime, tracking: dict[str, str]
) -> Response[str]:
    """`landing_page` with no values, errors or notice, from the page rendered once."""
    parts: list[str] | None = request.app.state.get(_FRESH_PAGE)
    if parts is None:
        template = landing_page(request, settings, now=now, values={}, errors={}, tracking=tracking)
        names = [*FRESH_FIELDS, "csrf_token"]
        context = template.create_template_context(request) | {
            "hidden": {name: _marker(name) for name in FRESH_FIELDS},
            "csrf_input": _CSRF_INPUT.format(_marker("csrf_token")),
        }
        engine = request.app.template_engine
        if engine is None or template.template_name is None:
            raise RuntimeError("the app renders no templates")
        html = engine.get_template(template.template_name).render(**context)
        parts = _MARKER.split(html)
        if sorted(parts[1::2]) != sorted(names):
            raise RuntimeError("the landing page does not show each hidden field once")
        request.app.state[_FRESH_PAGE] = parts
    values = hidden_fields(settings, now=now, tracking=tracking)
    filled = {name: str(escape(value)) for name, value in values.items()}
    token = value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")
    filled["csrf_token"] = html_escape(token)
    page = "".join(filled[part] if odd else part for odd, part in zip(cycle((False, True)), parts))
    return Response(page, media_type=MediaType.HTML)


class QuotePages(Controller):
    include_in_schema = False

    @get("/", name="landing", cache=False)
    async def landing(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        now: NamedDependency[datetime],
    ) -> Response[str]:
        tracking = {name: request.query_params.get(name, "")[:255] for name in UTM_FIELDS}
        tracking["referrer"] = request.headers.get("referer", "")[:1000]
        return fresh_landing_page(request, settings, now=now, tracking=tracking)

    @post("/quote", name="quote:submit")
    async def submit(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        database: NamedDependency[Database],
        now: NamedDependency[datetime],
    ) -> Template | Redirect:
        posted = await request.form()
        values = {name: str(posted.get(name, "")) for name in FORM_FIELDS}
        tracking = {name: str(posted.get(name, "")) for name in TRACKING_FIELDS}
        if request.state.get(RATE_LIMITED):
            return landing_page(
                request,
                settings,
                now=now,
                values=values,
                errors={},
                tracking=tracking,
                status_code=429,
                notice=messages.WAIT_A_MINUTE,
                submission={name: str(posted.get(name, "")) for name in SUBMISSION_FIELDS},
            )
        try:
            quote = QuoteRequest.model_validate({**values, **tracking})
        except ValidationError as exc:
            return landing_page(
                request,
                settings,
                now=now,
                values=values,
                errors=field_errors(exc),
                tracking=tracking,
                status_code=400,
            )
        submission = {
            "submission_id": quote.submission_id or uuid.uuid4().hex,
            "form_ts": str(posted.get("form_ts", "")),
        }
        try:
            stored = await create_lead(
                database=database,
                quote=quote,
                submission_id=submission["submission_id"],
                client=client_of(request, "form"),
                settings=settings,
                now=now,
                spam_reason=antispam.spam_reason(
                    values | {"form_ts": submission["form_ts"]},
                    secret=settings.secret_key,
                    now=now,
                    min_fill_seconds=settings.min_fill_seconds,
                ),
            )
        except DatabaseUnavailable:
            # The patient keeps their form; sent again, it is the same submission, so a write
            # that did commit before the connection dropped is not stored twice.
            return landing_page(
                request,
                settings,
                now=now,
                values=values,
                errors={},
                tracking=tracking,
                status_code=503,
                notice=messages.SEND_AGAIN,
                submission=submission,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return Redirect(
            request.app.route_reverse("quote:thanks", reference=stored.lead.reference),
            status_code=303,
        )

    @get("/quote/thanks/{reference:str}", name="quote:thanks")
    async def thanks(
        self,
        reference: FromPath[str],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        if await find_by_reference(session=session, reference=reference) is None:
            raise NotFound("No request with this reference.")
        return Template(
            template_name="thanks.html",
            context={"reference": reference, "response_hours": settings.response_hours},
        )


class QuoteCreated(BaseModel):
    id: uuid.UUID
    reference: str


class FieldError(BaseModel):
    field: str
    message: str


class QuoteErrors(BaseModel):
    errors: list[FieldError]


class ErrorDetail(BaseModel):
    status_code: int
    detail: str


def quote_validation_errors(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """422 with one readable message per field, the same ones the form shows."""
    # litestar keeps pydantic's errors (with the types we translate) on the cause.
    errors = getattr(exc.__cause__, "errors", None)
    if callable(errors):
        errors = errors()
    fields = field_errors(errors) if isinstance(errors, list) else {"__root__": exc.detail}
    body = QuoteErrors(errors=[FieldError(field=f, message=m) for f, m in fields.items()])
    return Response(body.model_dump(), status_code=422)


async def require_json(request: Request[Any, Any, Any]) -> None:
    """Only JSON: a page on another site can send text/plain or a form without asking the
    browser first, but not JSON."""
    if request.content_type[0] != "application/json":
        raise HTTPException(status_code=415, detail=messages.API_JSON_ONLY)


class QuoteApi(Controller):
    path = "/api/v1/quotes"
    tags = ["quotes"]
    exception_handlers = {ValidationException: quote_validation_errors}
    middleware = [CrossOrigin()]

    @post(
        "/",
        name="api:quotes:create",
        status_code=201,
        summary="Submit a quote request",
        description=(
            "Same fields and rules as the form on the landing page, sent as JSON. Retries are "
            "safe with an `Idempotency-Key` header (or a `submission_id`): a repeat answers "
            "with the lead already stored and the header `Idempotent-Replayed: true` (409 when "
            "the key was used for another patient's request). From a "
            "browser, only this site's pages and the origins the operator allowed may call it."
        ),
        responses={
            403: ResponseSpec(
                data_container=ErrorDetail,
                description="Sent by a page on another site whose origin is not allowed",
            ),
            409: ResponseSpec(
                data_container=ErrorDetail,
                description="The Idempotency-Key was already used for another patient's request",
            ),
            415: ResponseSpec(data_container=ErrorDetail, description="Not sent as JSON"),
            422: ResponseSpec(data_container=QuoteErrors, description="Field errors"),
        },
        before_request=require_json,
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[QuoteRequest],
        database: NamedDependency[Database],
        settings: NamedDependency[Settings],
        now: NamedDependency[datetime],
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", max_length=200, required=False)
        ] = None,
    ) -> Response[QuoteCreated]:
        submission_id = (
            f"api:{idempotency_key}" if idempotency_key else data.submission_id or uuid.uuid4().hex
        )
        stored = await create_lead(
            database=database,
            quote=data,
            submission_id=submission_id,
            client=client_of(request, "api"),
            settings=settings,
            now=now,
            spam_reason=antispam.api_spam_reason(await request.json()),
        )
        replayed = not stored.created
        if replayed and (stored.lead.email, stored.lead.full_name) != (data.email, data.full_name):
            raise Conflict(messages.KEY_REUSED)  # a 201 would acknowledge what is not stored
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(
            QuoteCreated(id=stored.lead.id, reference=stored.lead.reference),
            status_code=201,
            headers=headers,
        )
