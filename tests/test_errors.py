"""Errors become answers in one place: a form field that is not UTF-8 (which litestar's
multipart parser fails on while the CSRF check reads the form, before any handler) is the
client's 400, not a 500, on every form route."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from service.settings import Settings
from tests.factories import open_form, stored_leads


def multipart(fields: dict[str, bytes]) -> bytes:
    parts = b"".join(
        b'--b0undary\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (name.encode(), value)
        for name, value in fields.items()
    )
    return parts + b"--b0undary--\r\n"


async def test_a_multipart_field_that_is_not_utf8_is_a_400(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    token = (await open_form(client))["_csrf_token"]
    body = multipart({"_csrf_token": token.encode(), "full_name": b"Caf\xe9 \xff"})
    for url in ("/quote", "/desk/sign-in", "/respond/WyJ4Il0.AAAA"):
        response = await client.post(
            url,
            content=body,
            headers={"content-type": "multipart/form-data; boundary=b0undary"},
        )
        assert response.status_code == 400, (url, response.status_code)
    assert await stored_leads(settings.database_url) == []
