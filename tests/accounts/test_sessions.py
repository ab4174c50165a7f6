"""Desk sessions as a browser keeps them: the cookie that signing out leaves behind."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.signed_in import csrf_token


async def test_signing_out_deletes_the_session_cookie(desk: AsyncTestClient) -> None:
    assert "quote_desk_session" in desk.cookies
    response = await desk.post("/desk/sign-out", headers={"x-csrf-token": csrf_token(desk)})
    assert response.status_code == 303
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if "quote_desk_session" in c]
    assert "Max-Age=0" in cookie and "Max-Age=3600" not in cookie
    assert "quote_desk_session" not in desk.cookies  # the client's jar let it go at once
    assert (await desk.get("/desk/leads")).status_code == 303
