"""A small HTTP/1.1 client for the benchmark's own requests: a browser's cookies, a form's
hidden fields, signing in to the desk, and timed requests one after another on one connection."""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse
from dataclasses import dataclass
from http.cookies import SimpleCookie

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Client:
    """One keep-alive connection with a cookie jar, like one browser tab."""

    def __init__(self, base_url: str, *, timeout: float = 300) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        on_chunk: object = None,
    ) -> Response:
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                self._conn.request(method, path, body=body, headers=all_headers)
                raw = self._conn.getresponse()
                chunks = []
                while chunk := raw.read(65536):
                    if callable(on_chunk):
                        on_chunk(chunk)
                    else:
                        chunks.append(chunk)
                seconds = time.perf_counter() - started
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.close()
                if attempt == 2:
                    raise
                continue
            self._keep_cookies(raw.headers.get_all("set-cookie") or [])
            if raw.getheader("connection", "").lower() == "close":
                self.close()
            return Response(
                status=raw.status,
                headers={k.lower(): v for k, v in raw.getheaders()},
                body=b"".join(chunks),
                seconds=seconds,
            )
        raise AssertionError("unreachable")

    def _keep_cookies(self, lines: list[str]) -> None:
        for line in lines:
            jar: SimpleCookie = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict[str, str]) -> Response:
        return self.request(
            "POST",
            path,
            body=urllib.parse.urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def post_json(
        self, path: str, payload: bytes, headers: dict[str, str] | None = None
    ) -> Response:
        return self.request(
            "POST",
            path,
            body=payload,
            headers={"Content-Type": "application/json", **(headers or {})},
        )


def hidden_fields(html: str) -> dict[str, str]:
    return dict(HIDDEN.findall(html))


def sign_in(base_url: str, *, email: str, password: str) -> Client:
    """A desk client signed in through the sign-in form (CSRF cookie and token included)."""
    client = Client(base_url)
    page = client.get("/desk/sign-in")
    fields = hidden_fields(page.text) | {"email": email, "password": password}
    answer = client.post_form("/desk/sign-in", fields)
    if answer.status != 303:
        raise RuntimeError(f"desk sign-in failed with status {answer.status}")
    return client
