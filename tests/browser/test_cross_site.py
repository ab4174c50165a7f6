"""Pages on other sites, in a real Chromium, trying the quotes API: an unknown site's page cannot
make its visitor's browser send a request (nor a confirmation to an address of its choosing);
a partner site the operator allowed can, and reads the answer.

Each site is a small server of its own on `localhost` (another site than 127.0.0.1, where the
app runs)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from service.settings import Settings
from tests.conftest import blocking, make_settings
from tests.factories import outbox_rows, quote_data, stored_leads

pytestmark = pytest.mark.browser

# What a page on another site can do without the browser asking the API first: a text/plain
# fetch, and a text/plain form whose one field spells out a JSON body. And what needs asking:
# a JSON fetch (preflight).
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Another site</title></head>
<body><p id="result">waiting</p>
<form id="form" method="post" enctype="text/plain"></form>
<script>
const params = new URLSearchParams(location.search);
const api = params.get("api");
const quote = %(quote)s;
const body = JSON.stringify(quote);
const show = (text) => { document.getElementById("result").textContent = text; };
const how = params.get("how");
if (how === "text") {
  fetch(api, {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body})
    .then(() => show("sent"), () => show("failed"));
} else if (how === "form") {
  const form = document.getElementById("form");
  form.action = api;
  const input = document.createElement("input");
  input.name = body.slice(0, -1) + ', "x": "';
  input.value = '"}';
  form.appendChild(input);
  form.submit();
} else {
  fetch(api, {method: "POST", headers: {"Content-Type": "application/json"}, body})
    .then((r) => r.json().then((data) => show(r.status + " " + (data.reference || data.detail))))
    .catch(() => show("blocked"));
}
</script></body></html>
"""


class Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        page = PAGE % {"quote": json.dumps(quote_data(email="victim@example.org"))}
        body = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sites() -> Iterator[dict[str, str]]:
    """Two other sites: a partner (allowed) and an unknown one."""
    servers = {name: ThreadingHTTPServer(("127.0.0.1", 0), Site) for name in ("partner", "other")}
    for server in servers.values():
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {name: f"http://localhost:{s.server_address[1]}" for name, s in servers.items()}
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.fixture
def settings(database_url: str, sites: dict[str, str]) -> Settings:
    return make_settings(database_url, api_allowed_origins=sites["partner"])


def leads_and_emails(settings: Settings) -> tuple[int, int]:
    leads = blocking(stored_leads(settings.database_url))
    emails = blocking(outbox_rows(settings.database_url))
    return len(leads), len(emails)


def visit(page, site: str, api: str, how: str) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"{site}/?how={how}&api={api}")
    if how == "form":
        page.wait_for_url(api)  # the browser followed the form to the API's answer
        return str(page.locator("body").inner_text())
    page.wait_for_function("document.getElementById('result').textContent !== 'waiting'")
    return str(page.locator("#result").inner_text())


def test_a_page_on_another_site_cannot_send_a_request(  # type: ignore[no-untyped-def]
    page, live_url: str, sites: dict[str, str], settings: Settings
) -> None:
    api = f"{live_url}/api/v1/quotes"
    visit(page, sites["other"], api, "text")
    assert "does not take requests from pages on other web sites" in visit(
        page, sites["other"], api, "form"
    )
    assert visit(page, sites["other"], api, "json") == "blocked"
    assert leads_and_emails(settings) == (0, 0)


def test_a_partner_site_sends_json_and_reads_the_answer(  # type: ignore[no-untyped-def]
    page, live_url: str, sites: dict[str, str], settings: Settings
) -> None:
    api = f"{live_url}/api/v1/quotes"
    result = visit(page, sites["partner"], api, "json")
    (lead,) = blocking(stored_leads(settings.database_url))
    assert result == f"201 {lead.reference}"
    # Even a partner's page cannot send text/plain: JSON only.
    visit(page, sites["partner"], api, "text")
    assert leads_and_emails(settings)[0] == 1
