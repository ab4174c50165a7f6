"""schemathesis against the app's own OpenAPI schema, in-process (ASGI, no network): every
operation, the leads API with a real Bearer token made in the desk, on each database. Never a
5xx; a response the schema describes matches it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from litestar.serialization import encode_json, get_serializer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from service.app import create_app
from service.settings import Settings
from tests.conftest import BACKENDS, _empty_tables, blocking, make_settings
from tests.factories import insert, lead_row, quote_data
from tests.signed_in import admin_client, api_token

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def published_schema() -> dict[str, Any]:
    """The schema as the app publishes it at /schema/openapi.json (no database needed), with
    the request a real client sends as the quote's example: schemathesis starts its variations
    from examples, and a variation of a valid request is one that reaches the database."""
    app = create_app(make_settings("sqlite+aiosqlite://"))
    encoded = encode_json(app.openapi_schema.to_schema(), get_serializer(app.type_encoders))
    published: dict[str, Any] = json.loads(encoded)
    body = published["paths"]["/api/v1/quotes"]["post"]["requestBody"]["content"]
    body["application/json"]["example"] = quote_data(
        utm_source="partner", referrer="https://p.example/"
    )
    return published


schema = schemathesis.openapi.from_dict(published_schema())


async def _token(settings: Settings) -> str:
    async with admin_client(settings) as client:
        return await api_token(client)


@dataclass(frozen=True, slots=True)
class Api:
    settings: Settings
    auth: dict[str, str]
    lead_id: str


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    """Per database, for every operation: leads to find and change, and a token made through
    the desk (by an app of its own: the one under test lives on schemathesis's event loop)."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    settings = make_settings(url)
    lead = lead_row()
    blocking(insert(url, lead, lead_row(status="contacted")))
    token = blocking(_token(settings))
    yield Api(settings, {"Authorization": f"Bearer {token}"}, str(lead.id))
    blocking(_empty_tables(url))


@pytest.fixture
def app(api: Api) -> Litestar:
    """A fresh app per operation: schemathesis ends an app's lifespan with each test."""
    return create_app(api.settings)


@schema.parametrize()
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_without_a_5xx_and_as_documented(
    case: schemathesis.Case, api: Api, app: Litestar
) -> None:
    lead_id = (case.path_parameters or {}).get("lead_id")
    if isinstance(lead_id, str) and lead_id[:1] in "01234567":  # half the cases: a real lead
        case.path_parameters["lead_id"] = api.lead_id  # type: ignore[index]
    case.call_and_validate(app=app, headers=dict(api.auth), checks=CHECKS)
