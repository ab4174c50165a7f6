"""A coordinator in a real Chromium signs in, opens a complete lead, moves it to "quoted" and
sees it on the timeline, with no CSP violation and no missing asset."""

from __future__ import annotations

import pytest

from service.settings import Settings
from tests.conftest import blocking
from tests.factories import insert_complete_leads
from tests.signed_in import PASSWORD, add_coordinator

pytestmark = pytest.mark.browser


def test_sign_in_open_lead_change_status(page, live_url: str, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    blocking(add_coordinator(settings, "coco@example.org"))
    (lead,) = blocking(insert_complete_leads(settings.database_url, patient=3))  # Arabic script
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status == 404 else None)

    page.goto(f"{live_url}/desk/leads")
    page.get_by_label("Email").fill("coco@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name=lead.reference).click()
    assert page.get_by_role("heading", level=1).inner_text() == f"{lead.reference} contacted"
    assert lead.full_name in page.locator(".desk-fields").first.inner_text()
    page.get_by_label("Move to").select_option("quoted")
    page.get_by_role("button", name="Change status").click()
    page.get_by_role("status").filter(has_text="Status changed").wait_for()
    timeline = page.locator(".desk-timeline").inner_text()
    assert "Status changed from “contacted” to “quoted”" in timeline
    assert "coco@example.org" in timeline
    # No CSP violations and no missing assets (browsers ask for a favicon we do not have).
    assert [url for url in failed if not url.endswith("/favicon.ico")] == []
    assert [e for e in errors if "404" not in e] == []
