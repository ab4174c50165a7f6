"""The landing page, the form submit and the thank-you page, through the app on a real database."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from service.app import create_app
from service.content.documents import legal_texts
from service.models import Consent, Lead, LeadEvent
from service.settings import Settings
from tests.conftest import make_settings
from tests.factories import hidden_inputs, open_form, quote_form, stored_leads, submit_form


async def test_landing_shows_article_form_and_disclaimer(client: AsyncTestClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    text = page.text
    assert "<h1" in text and "Belgium&#39;s Progress in Stem Cell Therapy" in text
    assert re.search(r"<h2[^>]*>The Impact of Stroke", text)
    assert text.count("<li>") >= 3 and "Neurogenesis" in text
    assert 'href="#quote"' in text and 'id="quote"' in text
    assert "should not be considered as a substitute for professional medical advice" in text
    for name in ("full_name", "email", "phone", "country", "language", "medical_summary"):
        assert f'<label for="field-{name}"' in text, name
    assert 'name="_csrf_token"' in text
    # Strict CSP: no inline script or style anywhere on the page.
    assert "<script" not in text and "style=" not in text and "<style" not in text
    assert "default-src 'self'" in page.headers["content-security-policy"]


async def test_landing_prefills_treatment_and_destination(client: AsyncTestClient) -> None:
    page = await client.get("/")
    assert re.search(
        r'id="field-destination"[^>]*value="Belgium"|value="Belgium"[^>]*id="field-destination"',
        page.text,
    )
    assert "Stem cell therapy for stroke rehabilitation" in page.text


async def test_consent_texts_on_page_are_the_stored_versions(client: AsyncTestClient) -> None:
    page = html.unescape((await client.get("/")).text)
    for text in legal_texts().values():
        assert text.label in page


async def test_submit_stores_lead_consents_and_event_then_thanks(
    client: AsyncTestClient, settings: Settings
) -> None:
    response = await submit_form(client, headers={"user-agent": "PatientBrowser/1.0"})
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/quote/thanks/Q-[2-9A-HJKMNP-Z]{6}", location)

    (lead,) = await stored_leads(settings.database_url)
    assert location.endswith(lead.reference)
    assert lead.full_name == "Ana Peeters" and lead.email == "ana.peeters@example.org"
    assert lead.phone == "+32470123456" and lead.country == "BE" and lead.language == "nl"
    assert lead.treatment == "Stem cell therapy for stroke rehabilitation"
    assert lead.destination == "Belgium" and lead.status == "new" and lead.source == "form"

    consents = {c.kind: c for c in lead.consents}
    assert set(consents) == {"disclaimer", "health_data", "marketing"}
    assert consents["disclaimer"].granted and consents["health_data"].granted
    assert not consents["marketing"].granted
    for kind, consent in consents.items():
        assert consent.legal_text.sha256 == legal_texts()[kind].sha256
        assert consent.legal_text.body == legal_texts()[kind].body
        assert consent.user_agent == "PatientBrowser/1.0"
        assert consent.ip
        assert consent.created_at.tzinfo is not None
    # No facilitator and no alert address in these settings: unrouted, patient still confirmed.
    assert [e.kind for e in lead.events] == ["created", "unrouted"]

    thanks = await client.get(location)
    assert thanks.status_code == 200
    assert lead.reference in thanks.text
    assert "Ana" not in thanks.text and "ana.peeters" not in thanks.text


async def test_invalid_submit_keeps_values_and_shows_errors_beside_fields(
    client: AsyncTestClient, settings: Settings
) -> None:
    form = quote_form(email="ana@example.org, boss@example.org", medical_summary="Ça va <b>")
    del form["consent_health_data"]
    response = await submit_form(client, form)

    assert response.status_code == 400
    page = response.text
    assert "Enter one email address only" in page
    assert 'href="#field-email"' in page and 'href="#field-consent_health_data"' in page
    assert re.search(r'aria-describedby="[^"]*error-email', page)
    assert 'id="error-email"' in page
    assert 'value="Ana Peeters"' in page
    assert "Ça va &lt;b&gt;" in page
    assert 'value="ana@example.org, boss@example.org"' in page
    assert await stored_leads(settings.database_url) == []


async def test_phone_required_for_phone_contact(client: AsyncTestClient) -> None:
    response = await submit_form(client, quote_form(contact_method="whatsapp", phone=""))
    assert response.status_code == 400
    assert "Enter a phone number so the facilitator can call or message you." in response.text


async def test_double_submit_creates_one_lead(client: AsyncTestClient, settings: Settings) -> None:
    hidden = await open_form(client)
    first = await submit_form(client, hidden=hidden)
    second = await submit_form(client, hidden=hidden)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(await stored_leads(settings.database_url)) == 1


async def test_utm_and_referrer_are_carried_to_the_lead(
    client: AsyncTestClient, settings: Settings
) -> None:
    hidden = await open_form(
        client,
        "/?utm_source=newsletter&utm_medium=email&utm_campaign=stroke-2026",
        referer="https://magazine.example/belgium",
    )
    assert hidden["utm_source"] == "newsletter"
    assert (await submit_form(client, hidden=hidden)).status_code == 303
    (lead,) = await stored_leads(settings.database_url)
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == (
        "newsletter",
        "email",
        "stroke-2026",
    )
    assert lead.referrer == "https://magazine.example/belgium"


async def test_submit_without_csrf_token_is_refused_without_storing(
    client: AsyncTestClient, settings: Settings
) -> None:
    hidden = await open_form(client)
    del hidden["_csrf_token"]
    response = await submit_form(client, hidden=hidden)
    assert response.status_code == 403
    assert await stored_leads(settings.database_url) == []


async def test_filled_honeypot_is_stored_as_spam_not_refused(
    client: AsyncTestClient, settings: Settings
) -> None:
    response = await submit_form(client, quote_form(website="http://spam.example"))
    assert response.status_code == 303
    (lead,) = await stored_leads(settings.database_url)
    assert lead.status == "spam"
    assert lead.events[0].data["spam"] == "honeypot"


async def test_thanks_for_unknown_reference_is_a_friendly_404(client: AsyncTestClient) -> None:
    response = await client.get("/quote/thanks/Q-NOPE22", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "Page not found" in response.text and "Traceback" not in response.text


async def test_hidden_fields_are_fresh_on_each_render(client: AsyncTestClient) -> None:
    first = hidden_inputs((await client.get("/")).text)
    second = hidden_inputs((await client.get("/")).text)
    assert first["submission_id"] != second["submission_id"]


async def test_each_reader_gets_only_their_own_tracking_escaped(
    client: AsyncTestClient, settings: Settings
) -> None:
    # The page is rendered once and filled in per reader: one reader's values must neither
    # break out of their attribute nor reach the next reader.
    hostile = '"><script>alert(1)</script>'
    page = await client.get(
        "/?utm_source=" + quote(hostile), headers={"referer": 'https://a.example/?q=<b>&x="y"'}
    )
    assert "<script" not in page.text
    hidden = hidden_inputs(page.text)
    assert hidden["utm_source"] == hostile
    assert hidden["referrer"] == 'https://a.example/?q=<b>&x="y"'
    assert hidden["_csrf_token"] == client.cookies.get("quote_csrf")
    next_reader = hidden_inputs((await client.get("/")).text)
    assert next_reader["utm_source"] == "" and next_reader["referrer"] == ""
    assert (await submit_form(client, hidden=hidden)).status_code == 303
    (lead,) = await stored_leads(settings.database_url)
    assert lead.utm_source == hostile and lead.referrer == 'https://a.example/?q=<b>&x="y"'


async def test_lead_count_matches_submissions(client: AsyncTestClient, settings: Settings) -> None:
    for name in ("Ana Peeters", "Jan de Vries", "Zoë Müller"):
        assert (await submit_form(client, quote_form(full_name=name))).status_code == 303
    engine = create_async_engine(settings.database_url)
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(Lead)) == 3
        assert await conn.scalar(select(func.count()).select_from(Consent)) == 9
        created = select(func.count()).select_from(LeadEvent).where(LeadEvent.kind == "created")
        assert await conn.scalar(created) == 3
    await engine.dispose()


async def test_a_name_with_a_hidden_character_comes_back_with_its_message(
    client: AsyncTestClient, settings: Settings
) -> None:
    response = await submit_form(client, quote_form(full_name="Ana\u200bPeeters"))
    assert response.status_code == 400
    assert 'id="error-full_name"' in response.text
    assert "invisible characters" in response.text
    assert await stored_leads(settings.database_url) == []


async def test_a_patient_over_the_rate_limit_keeps_every_value_typed(settings: Settings) -> None:
    """Many requests from one network (a clinic, a hotel): the form comes back, nothing lost."""
    limited = make_settings(settings.database_url, rate_limit="2/minute")
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    async with AsyncTestClient(app=create_app(limited)) as client:
        client.follow_redirects = False
        for _ in range(2):
            assert (await submit_form(client, headers=browser)).status_code == 303
        hidden = await open_form(client)
        form = quote_form(full_name="Zoë Dubois", medical_summary="Left arm weak since March")
        response = await submit_form(client, form, hidden=hidden, headers=browser)

    assert response.status_code == 429
    page = response.text
    assert "please wait a minute, then send it again" in page
    assert 'value="Zoë Dubois"' in page and "Left arm weak since March" in page
    kept = hidden_inputs(page)  # sent again later, it is the same submission
    assert kept["submission_id"] == hidden["submission_id"]
    assert kept["form_ts"] == hidden["form_ts"]
    assert len(await stored_leads(settings.database_url)) == 2
