"""Every route in the app's route table, signed in as an administrator (and with an API token),
each of its methods, with hostile path, query and body values: never a 5xx.

Nothing here lists the routes: they come from `app.routes`, the query names from each handler's
signature and from the code that reads `query_params`, the form names from the templates. A new
route, query parameter or form field is swept without anyone touching this file.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.params import ParameterKwarg
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from service.settings import ROOT, Settings
from tests.conftest import make_settings
from tests.factories import facilitator_row, insert, open_form, outbox_row, submit_form
from tests.signed_in import admin_client, api_token, csrf_token

# Raw URL text, put into the path or query as it is (already percent-encoded where needed).
HOSTILE = [
    "0",
    "-1",
    "2147483648",
    "-2147483649",
    "99999999999999999999",
    "9" * 400,
    "1e309",
    "%C2%B2",  # "²": str.isdigit() says yes, int() says no
    "%00",
    "a%00b",
    "%0D%0ASet-Cookie:%20x=1",
    "%E2%80%AE%E2%80%8B",  # right-to-left override, zero-width space
    "%FF%FE",  # not UTF-8
    "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "Zo%C3%AB%20%F0%9F%A7%A0",
    "x" * 3000,
    "%25",
    "9999-12-31",
    "0001-01-01",
    "%27%20OR%201%3D1%20--",
]
BASE_QUERY_NAMES = {"q", "status", "after", "before", "cursor", "limit", "next", "from"}
SOURCE = ROOT / "service"
TEMPLATES = ROOT / "templates"


def declared_query(route: HTTPRoute) -> set[str]:
    """The query parameters a handler declares (litestar parses them, by type)."""
    names = set()
    for handler in route.route_handlers:
        dependencies = handler.resolve_dependencies()
        for name, field in handler.parsed_fn_signature.parameters.items():
            kwarg = field.kwarg_definition
            if (
                isinstance(kwarg, ParameterKwarg)
                and not (kwarg.header or kwarg.cookie)
                and name not in dependencies
                and name not in route.path_parameters
            ):
                names.add(kwarg.query or name)
    return names


def read_query() -> set[str]:
    """The query values code reads by name (leniently, from request.query_params)."""
    names = set(BASE_QUERY_NAMES)
    for path in SOURCE.rglob("*.py"):
        names.update(re.findall(r'query_params\.get\(\s*"(\w+)"', path.read_text()))
    return names


def form_names() -> set[str]:
    names: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        names.update(re.findall(r'<(?:input|select|textarea)[^>]*\bname="(\w+)"', path.read_text()))
    return names - {"_csrf_token"}


def path_values(kind: object, real: list[str]) -> list[str]:
    extra = [str(uuid.uuid4()), "00000000-0000-0000-0000-000000000000"] if kind is uuid.UUID else []
    return [*real, *extra, *HOSTILE]


def urls(route: HTTPRoute, real: dict[str, list[str]]) -> Iterator[str]:
    """The route's path with each hostile value in each parameter (the others kept real)."""
    params = route.path_parameters
    if not params:
        yield route.path_format
        return
    plain = {name: (real.get(name) or ["1"])[0] for name in params}
    for name, param in params.items():
        for value in path_values(param.type, real.get(name, [])):
            url = route.path_format
            for other in params:
                url = url.replace("{" + other + "}", value if other == name else plain[other])
            yield url


@pytest.fixture
def sweep_settings(database_url: str, tmp_path: Path) -> Settings:
    """Development, so that the mail sink's routes answer (and can be swept) too."""
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "20261124-120000-000001-1.eml").write_bytes(
        b"Subject: Hello\r\nTo: ana@example.org\r\n\r\nBody\r\n"
    )
    return make_settings(database_url, env="development", var_dir=tmp_path)


async def seed(client: AsyncTestClient, settings: Settings) -> dict[str, list[str]]:  # type: ignore[type-arg]
    """Rows to reach: a submitted lead (consents, events, emails), a facilitator, an email."""
    response = await submit_form(client, hidden=await open_form(client))
    assert response.status_code == 303
    reference = response.headers["location"].rsplit("/", 1)[1]
    clinic = facilitator_row()
    await insert(settings.database_url, clinic)
    message = outbox_row(None, status="dead")
    await insert(settings.database_url, message)
    token = {"x-csrf-token": csrf_token(client)}
    # A spare token and account for the sweep to revoke and disable (never its own).
    await client.post("/desk/tokens", data={"name": "spare"}, headers=token)
    account = {"email": "spare@example.org", "password": "p" * 16, "role": "coordinator"}
    await client.post("/desk/coordinators", data=account, headers=token)

    async def ids(url: str, pattern: str) -> list[str]:
        found = re.findall(pattern, (await client.get(url)).text)
        assert found, url
        return found[-1:]

    return {
        "reference": [reference],
        "lead_id": await ids(f"/desk/leads?q={reference}", r"/desk/leads/([0-9a-f-]{36})"),
        "outbox_id": [str(message.id)],
        "facilitator_id": [str(clinic.id)],
        "token_id": await ids("/desk/tokens", r"/desk/tokens/(\d+)/revoke"),
        "coordinator_id": await ids("/desk/coordinators", r"/desk/coordinators/(\d+)/active"),
        "file_name": ["20261124-120000-000001-1.eml"],
        "file_path": ["app.css"],
    }


def body_for(path: str, value: str, names: set[str]) -> dict[str, object]:
    text = httpx.QueryParams(f"v={value}").get("v", "")
    if path.startswith("/api/"):
        return {"json": {"status": text, "note": text, "full_name": text, "email": text}}
    return {"data": dict.fromkeys(names, text)}


def ordered(app: Litestar) -> list[HTTPRoute]:
    """Every HTTP route; signing out last, so that the rest is swept signed in."""
    routes = [route for route in app.routes if isinstance(route, HTTPRoute)]
    return sorted(routes, key=lambda route: route.path_format == "/desk/sign-out")


async def test_no_route_answers_5xx_to_hostile_input(sweep_settings: Settings) -> None:
    failures: list[str] = []
    answered: set[str] = set()  # routes that said yes at least once: the sweep got in
    count = 0
    async with admin_client(sweep_settings) as client:
        real = await seed(client, sweep_settings)
        client.headers["authorization"] = f"Bearer {await api_token(client)}"
        client.headers["x-csrf-token"] = csrf_token(client)
        fields = form_names()
        lenient = read_query()
        for route in ordered(client.app):
            declared = declared_query(route)
            for method in sorted(route.route_handler_map, key=lambda m: m == "POST"):
                base = next(iter(urls(route, {k: v[:1] for k, v in real.items()})))
                if method == "OPTIONS":  # litestar answers it alone; once is enough
                    requests: list[tuple[str, dict[str, object]]] = [(base, {})]
                else:
                    requests = [(url, {}) for url in urls(route, real)]
                    for value in HOSTILE:
                        # Lenient names all at once; a declared one alone, as one value refused
                        # by type would answer 400 before the others were read.
                        query = "&".join(f"{name}={value}" for name in sorted(lenient | declared))
                        body = body_for(route.path_format, value, fields) if method != "GET" else {}
                        requests.append((f"{base}?{query}", body))
                        requests += [(f"{base}?{name}={value}", {}) for name in sorted(declared)]
                    requests.append((f"{base}?q=a&q=b&status=&status=new&=x&%00=1&&", {}))
                for url, body in requests:
                    count += 1
                    response = await client.request(method, url, **body)  # type: ignore[arg-type]
                    if response.status_code >= 500:
                        failures.append(f"{method} {url[:160]} -> {response.status_code}")
                    elif response.status_code < 300:
                        answered.add(route.path_format)
                    if route.path_format.startswith("/static") and "root:" in response.text:
                        failures.append(f"{method} {url[:160]} served a file outside static/")
    print(f"route sweep: {count} requests, {len(answered)} routes answered 2xx")
    assert not failures, "\n".join(failures)
    assert {"/api/v1/leads", "/api/v1/leads/{lead_id}", "/desk/leads/{lead_id}"} <= answered


def test_the_hostile_values_reach_the_app_as_written() -> None:
    """httpx could resolve '..' or re-encode a value: the sweep is worth only what it sends."""
    for value in HOSTILE:
        raw = httpx.URL(f"http://testserver/desk/mail/{value}?q={value}").raw_path.decode()
        assert raw == f"/desk/mail/{value}?q={value}", value
