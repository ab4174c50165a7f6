"""The edge (service/edge.py): control characters, malformed bodies, body size, charsets and
path integers, through the app on a real database; and log lines that input cannot forge."""

from __future__ import annotations

import asyncio
import json
import logging.config
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
import uvicorn.config
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.cli import log_config
from service.settings import Settings
from tests.browser.conftest import _free_port
from tests.conftest import make_settings
from tests.factories import (
    hidden_inputs,
    insert,
    lead_row,
    open_form,
    quote_data,
    quote_form,
    stored_leads,
    submit_form,
)
from tests.signed_in import admin_client, api_token, csrf_token

HTML = {"accept": "text/html"}


@pytest.fixture
def live_server(database_url: str) -> Iterator[str]:
    """The app behind a real uvicorn on a free port: real HTTP, real chunked bodies."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(make_settings(database_url)), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# Control characters (NUL first: PostgreSQL cannot store it)


async def test_controls_in_form_fields_nothing_validates_are_dropped_and_the_lead_kept(
    client: AsyncTestClient, settings: Settings
) -> None:
    hidden = await open_form(client)
    submission_id = hidden["submission_id"]
    hidden |= {
        "submission_id": submission_id[:8] + "\x1b" + submission_id[8:],
        "utm_source": "news\x0bletter\x85",
        "utm_campaign": "stroke\x1b[31m-2026",
        "referrer": "https://magazine.example/\x7fbelgium",
    }
    response = await submit_form(client, hidden=hidden)
    assert response.status_code == 303
    (lead,) = await stored_leads(settings.database_url)
    assert lead.submission_id == submission_id
    assert (lead.utm_source, lead.utm_campaign) == ("newsletter", "stroke[31m-2026")
    assert lead.referrer == "https://magazine.example/belgium"


async def test_a_nul_in_a_form_is_refused_and_nothing_is_stored(
    client: AsyncTestClient, settings: Settings
) -> None:
    for field in ("utm_source", "referrer", "submission_id", "full_name", "medical_summary"):
        hidden = await open_form(client)
        form = quote_form() | {field: "news\x00letter"}
        response = await submit_form(client, form, hidden=hidden, headers=HTML)
        assert response.status_code == 400, field
        assert "Something in the request was not right" in response.text
    assert await stored_leads(settings.database_url) == []
    page = await client.get("/desk/sign-in")
    token = hidden_inputs(page.text)["_csrf_token"]
    sign_in = await client.post(
        "/desk/sign-in",
        data={"_csrf_token": token, "email": "ada\x00@example.org", "password": "x" * 12},
    )
    assert sign_in.status_code == 400


async def test_invisible_controls_a_patient_pasted_are_dropped_line_breaks_are_judged_by_field(
    client: AsyncTestClient, settings: Settings
) -> None:
    form = quote_form(
        full_name="Ana\x0b Peeters\x7f",
        medical_summary="Left side weakness.\x0c\r\nWalks with a cane.\x1b",
    )
    assert (await submit_form(client, form)).status_code == 303
    (lead,) = await stored_leads(settings.database_url)
    assert lead.full_name == "Ana Peeters"
    assert lead.medical_summary == "Left side weakness.\r\nWalks with a cane."

    refused = await submit_form(client, quote_form(full_name="Ana\r\nBcc: x@example.org"))
    assert refused.status_code == 400
    assert "Your name cannot contain line breaks or control characters." in refused.text


async def test_controls_in_query_values_are_dropped(
    client: AsyncTestClient, settings: Settings
) -> None:
    hidden = await open_form(client, "/?utm_source=news%00letter&utm_medium=e%0Amail%E2%80")
    assert hidden["utm_source"] == "newsletter"
    assert hidden["utm_medium"] == "email\ufffd"
    async with admin_client(settings) as admin:
        page = await admin.get("/desk/leads?q=ana%00&status=new%00", headers=HTML)
        assert page.status_code == 200
        token = await api_token(admin)
        listed = await admin.get(
            "/api/v1/leads?q=%00ana", headers={"authorization": f"Bearer {token}"}
        )
        assert listed.status_code == 200 and listed.json()["leads"] == []


async def test_a_control_character_in_a_path_value_names_nothing(
    client: AsyncTestClient, settings: Settings
) -> None:
    await insert(settings.database_url, lead_row(reference="Q-EDGE22"))
    assert (await client.get("/quote/thanks/Q-EDGE22")).status_code == 200
    for path in (
        "/quote/thanks/Q-EDGE22%00",  # not the lead's page: the value is not its reference
        "/quote/thanks/%00Q-EDGE22",
        "/quote/thanks/Q-ABC%0AX",
        "/static/app.css%00.txt",
        "/static/app.css%00",
    ):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 404, path
        assert "Page not found" in response.text
    assert (await client.get("/quote/thanks/Q-ABC%00")).json()["status_code"] == 404


async def test_sign_in_with_a_control_in_the_email_is_an_ordinary_failure(
    client: AsyncTestClient,
) -> None:
    page = await client.get("/desk/sign-in")
    token = hidden_inputs(page.text)["_csrf_token"]
    response = await client.post(
        "/desk/sign-in",
        data={"_csrf_token": token, "email": "ada\x1b@example.org", "password": "x" * 12},
    )
    assert response.status_code == 400
    assert "That email and password do not match an active account." in response.text


async def test_json_with_a_control_character_or_lone_surrogate_is_refused_and_nothing_stored(
    client: AsyncTestClient, settings: Settings
) -> None:
    for field, value in (
        ("utm_source", "partner\x00"),
        ("submission_id", "abc\x1b"),
        ("referrer", "https://partner.example/\x7f"),
        ("full_name", "Ana \ud800Peeters"),  # a lone surrogate: not text at all
    ):
        response = await client.post(
            "/api/v1/quotes",
            content=json.dumps(quote_data(**{field: value})).encode(),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400, field
        if field != "full_name":
            assert f"at $.{field}" in response.json()["detail"]
    assert await stored_leads(settings.database_url) == []
    # Line breaks are the fields' business: 422 with the field's own message.
    multiline = await client.post(
        "/api/v1/quotes", json=quote_data(medical_summary="one\r\ntwo\tthree")
    )
    assert multiline.status_code == 201


# Malformed requests: each a 4xx, never a 500


async def test_json_nested_a_thousand_deep_is_refused(client: AsyncTestClient) -> None:
    deep = b'{"full_name": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    response = await client.post(
        "/api/v1/quotes", content=deep, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "The JSON is nested more than 32 levels deep."
    shallow = quote_data(utm_source=None) | {"extra": [[[["kept shallow"]]]]}
    assert (await client.post("/api/v1/quotes", json=shallow)).status_code == 201


async def test_json_that_is_not_utf8_is_refused(
    client: AsyncTestClient, settings: Settings
) -> None:
    body = json.dumps(quote_data(full_name="Zoë Müller"), ensure_ascii=False).encode("latin-1")
    response = await client.post(
        "/api/v1/quotes", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]
    assert await stored_leads(settings.database_url) == []


async def test_an_integer_in_a_path_no_id_can_reach_is_a_404(settings: Settings) -> None:
    async with admin_client(settings) as admin:
        token = {"x-csrf-token": csrf_token(admin)}
        for huge in ("99999999999999999999", "2147483648", "-2147483649"):
            assert (await admin.get(f"/desk/mail/{huge}", headers=HTML)).status_code == 404
            retry = await admin.post(f"/desk/emails/{huge}/retry", headers=token | HTML)
            assert retry.status_code == 404, huge
        assert (await admin.get("/desk/mail/2147483647", headers=HTML)).status_code == 404


async def test_a_path_longer_than_any_file_name_is_not_found(client: AsyncTestClient) -> None:
    for path in ("/static/" + "x" * 300, "/static/" + "9" * 256 + "/app.css"):
        assert (await client.get(path, headers=HTML)).status_code == 404, path
    deep = await client.get("/static/" + "a/" * 1000 + "app.css")
    assert deep.status_code == 404
    assert (await client.get("/static/app.css")).status_code == 200


# Body size: 64 KiB for every route, with or without a Content-Length


async def test_a_form_over_64_kib_is_refused_with_413_and_nothing_stored(
    client: AsyncTestClient, settings: Settings
) -> None:
    form = quote_form(medical_summary="x" * (65 * 1024))
    response = await submit_form(client, form, headers=HTML)
    assert response.status_code == 413
    assert "too large" in response.text
    assert await stored_leads(settings.database_url) == []
    # The largest form a patient can fill in (4,000 four-byte characters) still goes through.
    assert (await submit_form(client, quote_form(medical_summary="🧠" * 4000))).status_code == 303


async def test_json_over_64_kib_is_refused_with_413(
    client: AsyncTestClient, settings: Settings
) -> None:
    response = await client.post("/api/v1/quotes", json=quote_data(budget="9" * 70_000))
    assert response.status_code == 413
    assert response.json()["detail"] == "The request is larger than 64 KiB."
    assert await stored_leads(settings.database_url) == []


def test_a_real_server_refuses_a_chunked_form_over_64_kib(live_server: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"full_name=Ana&medical_summary="
        for _ in range(80):
            yield b"x" * 1024

    with httpx.Client(base_url=live_server) as http:
        http.get("/")  # the CSRF cookie
        response = http.post(
            "/quote",
            content=chunks(),
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "x-csrf-token": http.cookies["quote_csrf"],
                "accept": "text/html",
            },
        )
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413


async def test_desk_forms_have_the_same_limit(client: AsyncTestClient) -> None:
    page = await client.get("/desk/sign-in")
    token = hidden_inputs(page.text)["_csrf_token"]
    response = await client.post(
        "/desk/sign-in",
        data={"_csrf_token": token, "email": "ada@example.org", "password": "p" * 70_000},
    )
    assert response.status_code == 413


# Charsets and form encodings


async def test_a_form_in_another_charset_is_refused_never_stored_garbled(
    client: AsyncTestClient, settings: Settings
) -> None:
    for charset, encoding in (("ISO-8859-1", "latin-1"), ("windows-1252", "cp1252")):
        form = await open_form(client) | quote_form(full_name="Zoë Müller")
        body = urlencode(form, encoding=encoding).encode("ascii")
        headers = {"content-type": f"application/x-www-form-urlencoded; charset={charset}"}
        response = await client.post("/quote", content=body, headers=headers | HTML)
        assert response.status_code == 415, charset
        assert "reload the page and send the form again" in response.text
    assert await stored_leads(settings.database_url) == []
    # UTF-8, declared or not, is what browsers send: unchanged.
    form = await open_form(client) | quote_form(full_name="Zoë Müller", budget="€ 20.000")
    utf8 = {"content-type": "application/x-www-form-urlencoded; charset=UTF-8"}
    assert (
        await client.post("/quote", content=urlencode(form).encode(), headers=utf8)
    ).status_code == 303
    (lead,) = await stored_leads(settings.database_url)
    assert (lead.full_name, lead.budget) == ("Zoë Müller", "€ 20.000")


async def test_a_form_that_is_not_utf8_and_says_nothing_is_refused(
    client: AsyncTestClient, settings: Settings
) -> None:
    form = await open_form(client) | quote_form(full_name="Zoë Müller")
    latin1 = urlencode(form, encoding="latin-1").encode("ascii")
    headers = {"content-type": "application/x-www-form-urlencoded", **HTML}
    response = await client.post("/quote", content=latin1, headers=headers)
    assert response.status_code == 400
    assert "Something in the request was not right" in response.text
    assert await stored_leads(settings.database_url) == []
    # UTF-8, percent-encoded or as raw bytes, is read as it is.
    form = await open_form(client) | quote_form(full_name="Zoë Müller")
    raw = "&".join(f"{k}={v}" for k, v in form.items() if "&" not in v).encode()
    assert (await client.post("/quote", content=raw, headers=headers)).status_code == 303
    assert [lead.full_name for lead in await stored_leads(settings.database_url)] == ["Zoë Müller"]


async def test_unknown_charsets_and_multipart_bodies_are_refused_with_415(
    client: AsyncTestClient, settings: Settings
) -> None:
    form = await open_form(client) | quote_form()
    unknown = await client.post(
        "/quote",
        content=urlencode(form).encode(),
        headers={"content-type": "application/x-www-form-urlencoded; charset=klingon", **HTML},
    )
    assert unknown.status_code == 415 and "reload the page and send the form again" in unknown.text
    multipart = await client.post("/quote", data=form | {"utm_source": "x\x00"}, files={"f": b"x"})
    assert multipart.status_code == 415
    assert await stored_leads(settings.database_url) == []


# Logs: a request's text cannot start a line that reads like a log record

FORGED = 'INFO:     127.0.0.1:4242 - "GET /desk/leads HTTP/1.1" 200 OK'


@post("/test/fail-with", include_in_schema=False)
async def fail_with(request: Request[Any, Any, Any]) -> None:
    """Registered only in this test's app: fails with the posted text in the exception."""
    text = (await request.form()).get("text", "")
    raise ValueError(f"cannot read {text!s}")


async def test_an_error_log_with_request_text_in_it_cannot_forge_a_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings)
    app.register(fail_with)
    async with AsyncTestClient(app=app) as client:
        await client.get("/")  # the CSRF cookie
        response = await client.post(
            "/test/fail-with",
            data={"text": f"x\n{FORGED}\r\n{FORGED}\u2028{FORGED}"},
            headers={"x-csrf-token": client.cookies["quote_csrf"]},
        )
    assert response.status_code == 500
    logged = await _stderr_until(capsys, "cannot read")
    at_margin = [line for line in logged.splitlines() if line and not line[0].isspace()]
    assert at_margin and not any(line.startswith("INFO:") for line in at_margin), logged
    assert "\\r" in logged and "\\u2028" + FORGED in logged


@get("/test/fail-at/{token:str}", include_in_schema=False)
async def fail_at(token: FromPath[str]) -> None:
    """Registered only in this test's app: a route whose path holds a secret, failing."""
    raise ValueError("no such thing")


async def test_an_error_log_names_the_route_not_the_path(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A personal link's path is its token: an error on /privacy/{token} must not log it."""
    app = create_app(settings)
    app.register(fail_at)
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/test/fail-at/s3cret-token")
    assert response.status_code == 500
    logged = await _stderr_until(capsys, "unhandled ValueError")
    ours = "\n".join(line for line in logged.splitlines() if "httpx" not in line)
    assert "unhandled ValueError on GET /test/fail-at/{token}" in ours
    assert "s3cret" not in ours  # (the test client logs the URL it asked for)


async def _stderr_until(capsys: pytest.CaptureFixture[str], needle: str) -> str:
    """What the app logged (litestar logs from a thread): read until the needle shows."""
    seen = ""
    deadline = time.monotonic() + 5
    while needle not in seen and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        seen += capsys.readouterr().err
    await asyncio.sleep(0.1)
    return seen + capsys.readouterr().err


def test_the_servers_log_config_escapes_what_it_writes(capsys: pytest.CaptureFixture[str]) -> None:
    logging.config.dictConfig(log_config())
    try:
        logging.getLogger("uvicorn.error").error("bad header %s", f"x\n{FORGED}\x1b[2K")
        access = logging.getLogger("uvicorn.access")
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", f"/\r\n{FORGED}", "1.1", 200)
    finally:
        logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
    captured = capsys.readouterr()
    (error,) = captured.err.splitlines()
    (request_line,) = captured.out.splitlines()
    assert error.startswith("ERROR:") and "\\n" + FORGED + "\\x1b[2K" in error
    assert request_line.startswith("INFO:") and "\\r\\n" + FORGED in request_line
