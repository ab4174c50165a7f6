"""A patient on a phone: reads the page, fills the form by its labels, sends it, fixes a mistake."""

from __future__ import annotations

import re

import pytest

from service.content.documents import legal_texts

pytestmark = pytest.mark.browser


def fill_quote(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Full name").fill("Ana Peeters")
    page.get_by_label("Email address").fill("ana.peeters@example.org")
    page.get_by_label("Phone number").fill("+32 470 12 34 56")
    page.get_by_label("Country you live in").select_option("BE")
    page.get_by_label("Preferred language").select_option("nl")
    page.get_by_label("A family member").check()
    page.get_by_label("WhatsApp").check()
    page.get_by_label("When did the stroke happen? (optional)").fill("2025-03")
    page.get_by_label("Your medical situation (optional)").fill("Left side weakness; cane.")
    page.get_by_label(legal_texts()["disclaimer"].label).check()
    page.get_by_label(legal_texts()["health_data"].label).check()


def test_patient_gets_a_reference_then_fixes_a_bad_email(page, live_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_url + "/?utm_source=newsletter")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Belgium")
    page.get_by_role("link", name="Get a free quote").first.click()
    assert page.url.endswith("#quote")

    fill_quote(page)
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url(re.compile(r"/quote/thanks/Q-[2-9A-Z]{6}$"))
    reference = page.url.rsplit("/", 1)[1]
    assert reference in page.locator("main").inner_text()

    page.goto(live_url + "/")
    fill_quote(page)
    # A typo the browser's own check lets through; the server must catch it.
    page.get_by_label("Email address").fill("ana.peeters@gmail")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_load_state()

    email = page.locator("#field-email")
    assert email.get_attribute("aria-invalid") == "true"
    error = page.locator("#error-email")
    assert "Enter a valid email address" in error.inner_text()
    assert "error-email" in (email.get_attribute("aria-describedby") or "")
    assert page.get_by_label("Full name").input_value() == "Ana Peeters"
    assert page.get_by_label("Country you live in").input_value() == "BE"
    assert page.get_by_label(legal_texts()["health_data"].label).is_checked()
    assert page.get_by_label("WhatsApp").is_checked()
    assert page.get_by_label("Email address").input_value() == "ana.peeters@gmail"
    assert page.get_by_role("link", name=re.compile("Enter a valid email address")).count() == 1
