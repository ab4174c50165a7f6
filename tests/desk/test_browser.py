"""A real Chromium signs in, opens a complete lead, moves it to "quoted" and sees it on the
timeline."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from service.app import create_app
from service.settings import Settings
from tests.desk.conftest import PASSWORD, add_coordinator
from tests.factories import insert_complete_leads

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.browser


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn in a thread, on a free port."""
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is required under CI=true")
        pytest.skip(f"{CHROMIUM} is missing (make test installs it when run as root)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)


async def test_sign_in_open_lead_change_status(server: str, settings: Settings) -> None:
    from playwright.async_api import async_playwright

    await add_coordinator(settings, "coco@example.org")
    (lead,) = await insert_complete_leads(settings.database_url, patient=3)  # Arabic script
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        page = await browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        failed: list[str] = []
        page.on("response", lambda r: failed.append(r.url) if r.status == 404 else None)
        await page.goto(f"{server}/desk/leads")
        await page.get_by_label("Email").fill("coco@example.org")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("link", name=lead.reference).click()
        heading = page.get_by_role("heading", level=1)
        assert await heading.inner_text() == f"{lead.reference} contacted"
        assert lead.full_name in await page.locator(".desk-fields").first.inner_text()
        await page.get_by_label("Move to").select_option("quoted")
        await page.get_by_role("button", name="Change status").click()
        await page.get_by_role("status").filter(has_text="Status changed").wait_for()
        timeline = page.locator(".desk-timeline")
        assert "Status changed from “contacted” to “quoted”" in await timeline.inner_text()
        assert "coco@example.org" in await timeline.inner_text()
        # No CSP violations and no missing assets (browsers ask for a favicon we do not have).
        assert [url for url in failed if not url.endswith("/favicon.ico")] == []
        assert [e for e in errors if "404" not in e] == []
        await browser.close()
