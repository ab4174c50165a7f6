"""The answer page takes no input on trust: tokens of every shape, NUL bytes, huge numbers,
bytes that are not UTF-8, wrong content types and forms a browser would not send get a 4xx
with a page that says what to do, never a 5xx, and nothing is recorded. A form with a mistake
comes back with each message beside its field and every value kept."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.models import LeadEvent, LeadResponse
from service.settings import Settings
from tests.answering import answer, link_in, shown_text
from tests.factories import add_facilitators, fetch_all, hidden_inputs, quote_data
from tests.smtp import Clock, MakeWorker, SmtpServer, mail_settings


@pytest.fixture
def settings(database_url: str, smtp: SmtpServer) -> Settings:
    return mail_settings(database_url, smtp)


@pytest.fixture
async def client(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as client:
        client.follow_redirects = False
        yield client


@pytest.fixture
async def path(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    smtp: SmtpServer,
    make_worker: MakeWorker,
) -> str:
    """A real personal link, from the email a facilitator received."""
    (clinic,) = await add_facilitators(
        settings.database_url, {"name": "Brussels Stroke Care", "email": "q@brussels.example"}
    )
    assert (await client.post("/api/v1/quotes", json=quote_data())).status_code == 201
    await make_worker().drain()
    (received,) = smtp.inbox.to(clinic.email)
    return link_in(received)


async def recorded(settings: Settings) -> tuple[int, int]:
    events = await fetch_all(settings.database_url, LeadEvent)
    return len(await fetch_all(settings.database_url, LeadResponse)), len(events)


async def test_tokens_of_every_shape_are_a_404_page(client: AsyncTestClient, path: str) -> None:  # type: ignore[type-arg]
    token = path.rsplit("/", 1)[1]
    for bad in (
        "x",
        "%2E",
        "%00",
        f"{token}%00",
        "%ff%fe",
        "%ED%A0%80",  # a lone surrogate, percent-encoded
        "é" * 10,
        "x" * 5000,
        f"{token}.{token}",
        token.replace(".", ""),
        "eyJ9." + "A" * 27,
        "W10.AAAAAAAAAAAAAAAAAAAAAAAAAAA",  # "[]", unsigned
    ):
        for method in ("GET", "POST"):
            response = await client.request(method, f"/respond/{bad}")
            assert 400 <= response.status_code < 500, (method, bad, response.status_code)
            if method == "GET":
                assert response.status_code == 404, bad
                assert "This link is not valid" in response.text, bad


async def test_hostile_bodies_get_a_4xx_and_record_nothing(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    path: str,
) -> None:
    page = await client.get(path)
    csrf = hidden_inputs(page.text)["_csrf_token"]
    before = await recorded(settings)
    form = "application/x-www-form-urlencoded"
    cases: list[tuple[bytes, str]] = [
        (b"action=contacted", form),  # no CSRF token
        (f"_csrf_token={csrf}&action=".encode(), form),
        (f"_csrf_token={csrf}&action=won".encode(), form),
        (f"_csrf_token={csrf}&action=declined".encode(), form),  # no reason
        (f"_csrf_token={csrf}&action=declined&reason=other&note={'x' * 2001}".encode(), form),
        (f"_csrf_token={csrf}&action=quoted&price_min={'9' * 5000}&currency=EUR".encode(), form),
        (f"_csrf_token={csrf}&action=quoted&price_min=1000000001&currency=EUR".encode(), form),
        (f"_csrf_token={csrf}&action=quoted&price_min=-5&currency=EUR".encode(), form),
        (f"_csrf_token={csrf}&action=quoted&price_min=1e9&currency=EUR".encode(), form),
        (f"_csrf_token={csrf}&action=quoted&price_min=%D9%A3&currency=EUR".encode(), form),
        (f"_csrf_token={csrf}&action=quoted&price_max=12.50&currency=EUR".encode(), form),
        (f"_csrf_token={csrf}&action=quoted&price_min=9&price_max=5&currency=EUR".encode(), form),
        (f"_csrf_token={csrf}&action=quoted&price_min=9&currency=XYZ".encode(), form),
        (f"_csrf_token={csrf}&action=quoted&price_min=9&currency=".encode(), form),
        (f"_csrf_token={csrf}&action=quoted&note=%ff%fe".encode(), form),  # not UTF-8
        (f"_csrf_token={csrf}&action=quoted&note=".encode() + b"\xff\xfe", form),
        (f"_csrf_token={csrf}&action=quoted&note=x".encode(), f"{form}; charset=latin-1"),
        (f'{{"_csrf_token": "{csrf}", "action": "contacted"}}'.encode(), "application/json"),
        (f"_csrf_token={csrf}&action=contacted".encode(), "text/plain"),
        (b"garbage", "multipart/form-data; boundary=xyz"),
        (b"garbage", "multipart/form-data"),
        (f"_csrf_token={csrf}&{'&'.join(f'f{n}=1' for n in range(500))}".encode(), form),
    ]
    for body, content_type in cases:
        response = await client.post(path, content=body, headers={"content-type": content_type})
        assert 400 <= response.status_code < 500, (body[:80], content_type, response.status_code)
    assert await recorded(settings) == before

    # The same in multipart, as some browsers send forms: a NUL and a bad byte are refused too.
    multipart = await client.post(
        path,
        data={"_csrf_token": csrf, "action": "declined", "reason": "other", "note": "a\x00b"},
        files={"attachment": ("x.txt", b"\xff\xfe", "text/plain")},
    )
    assert multipart.status_code == 400
    parts = [("_csrf_token", csrf.encode()), ("action", b"declined"), ("reason", b"other")]
    raw = b"".join(
        b'--b0undary\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (name.encode(), value)
        for name, value in [*parts, ("note", b"caf\xe9 \xff")]
    )
    not_utf8 = await client.post(
        path,
        content=raw + b"--b0undary--\r\n",
        headers={"content-type": "multipart/form-data; boundary=b0undary"},
    )
    assert not_utf8.status_code == 400
    assert await recorded(settings) == before

    # NUL bytes: this page refuses them beside the field; whatever the app does before it
    # (refuse, or drop the character), none is ever stored and nothing fails.
    for body in (
        f"_csrf_token={csrf}&action=declined&reason=%00",
        f"_csrf_token={csrf}&action=declined&reason=other&note=a%00b",
        f"_csrf_token={csrf}&action=%00contacted",
    ):
        response = await client.post(path, content=body.encode(), headers={"content-type": form})
        assert response.status_code in (303, 400), (body, response.status_code)
    for row in await fetch_all(settings.database_url, LeadResponse):
        assert "\x00" not in (row.note or "") + row.action + (row.reason or "")


async def test_a_form_with_mistakes_comes_back_with_every_value_and_each_message(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    path: str,
) -> None:
    before = await recorded(settings)
    response = await answer(
        client,
        path,
        action="quoted",
        price_min="20 000",
        price_max="12.000,50",
        currency="EUR",
        note="Includes <b>flights</b>",
    )
    assert response.status_code == 400
    text = shown_text(response.text)
    assert "Please check the following" in text
    assert "Enter a whole amount without decimals, like 18000." in text
    assert 'value="20 000"' in response.text and 'value="12.000,50"' in response.text
    assert "Includes &lt;b&gt;flights&lt;/b&gt;</textarea>" in response.text
    assert 'aria-invalid="true" aria-describedby="error-price_max"' in response.text
    assert await recorded(settings) == before

    declined = await answer(client, path, action="declined", note="Fully booked")
    assert declined.status_code == 400
    assert "Choose why this request is not for you." in shown_text(declined.text)
    assert "Fully booked</textarea>" in declined.text
    assert await recorded(settings) == before
