"""What the load sends: a patient's quote request as the form posts it (with the hidden fields
each browser got from the landing page) and as JSON, the floor app's equivalent, and the
facilitators a benchmark database starts with."""

from __future__ import annotations

import json
import re
import urllib.parse
from datetime import UTC, datetime, timedelta

from bench.databases import BenchDatabase
from bench.http import Client, hidden_fields
from bench.load import Variant
from bench.processes import SECRET_KEY, quote_desk
from service.leads.antispam import sign_render_time

# What a patient types (each request from its own address: `patient_email`); the landing page
# adds treatment, destination and the hidden fields.
PATIENT = {
    "full_name": "Ana Peeters",
    "phone": "+32 470 12 34 56",
    "country": "BE",
    "language": "nl",
    "patient_relation": "family",
    "stroke_type": "ischemic",
    "stroke_date": "2025-03",
    "medical_summary": "Ischemic stroke in March 2025, left side weakness, walks with a cane.",
    "travel_window": "Within 3 months",
    "budget": "EUR 20,000",
    "contact_method": "whatsapp",
    "consent_disclaimer": "on",
    "consent_health_data": "on",
}
FLOOR = {
    "full_name": "Ana Peeters",
    "email": "ana.peeters@example.org",
    "country": "BE",
    "message": "Ischemic stroke in March 2025, left side weakness, walks with a cane.",
}
FACILITATORS = [
    ("care@brussels-neuro.example", "Brussels Neuro Care", ["nl", "fr"], 2),
    ("hello@antwerp-rehab.example", "Antwerp Rehab Partners", ["nl", "en"], 1),
    ("contact@liege-stroke.example", "Liege Stroke Clinic", ["fr"], 1),
    ("desk@global-care.example", "Global Care Travel", [], 1),
]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}
VISIBLE = re.compile(r'<input[^>]*name="(treatment|destination)"[^>]*value="([^"]*)"')


def prepare_database(database: BenchDatabase, *, facilitators: bool = True) -> None:
    """Migrate, and add the facilitators leads are routed to."""
    quote_desk("db", "upgrade", database_url=database.url)
    if facilitators:
        for email, name, languages, weight in FACILITATORS:
            options = [x for language in languages for x in ("--language", language)]
            quote_desk(
                "facilitator",
                "add",
                email,
                "--name",
                name,
                *options,
                "--weight",
                str(weight),
                database_url=database.url,
            )


def patient_email(request_id: str) -> str:
    """Each request's own patient: requests from one address are follow-ups of the first, and
    its confirmations are capped per day, which is not what a crowd of patients does."""
    return f"patient.{request_id}@example.org"


def form_variants(base_url: str, browsers: int, *, min_fill_seconds: float = 2.0) -> list[Variant]:
    """One variant per simulated browser: it loads the landing page (its own CSRF cookie and
    CSRF token) and posts the form; each post gets its own submission_id, its own patient's
    address and, as the page rendered for that submission gives it, the render time signed for
    that id (one render time serves one submission), older than the service's minimum fill
    time, so no post is taken for a bot."""
    rendered = datetime.now(UTC) - timedelta(seconds=min_fill_seconds + 1)

    def own_fields(submission_id: str) -> str:
        stamp = sign_render_time(secret=SECRET_KEY, now=rendered, submission_id=submission_id)
        return "&" + urllib.parse.urlencode(
            {"email": patient_email(submission_id), "form_ts": stamp}
        )

    variants = []
    for _ in range(browsers):
        client = Client(base_url)
        page = client.get("/")
        if page.status != 200:
            raise RuntimeError(f"GET / answered {page.status}")
        hidden = hidden_fields(page.text)
        if "_csrf_token" not in hidden or "form_ts" not in hidden:
            raise RuntimeError("the landing page has no form with a CSRF token and a render time")
        hidden.pop("submission_id", None)
        hidden.pop("form_ts")
        fields = PATIENT | dict(VISIBLE.findall(page.text)) | hidden | {"website": ""}
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        body = urllib.parse.urlencode(fields) + "&submission_id="
        variants.append(Variant(headers=FORM | {"Cookie": cookie}, before=body, suffix=own_fields))
        client.close()
    return variants


def json_variants() -> list[Variant]:
    """The JSON API's request: the same fields, consents as booleans, a unique submission_id
    and its own patient's address."""
    payload = {k: (v == "on" if k.startswith("consent_") else v) for k, v in PATIENT.items()} | {
        "treatment": "Stem cell therapy",
        "destination": "Belgium",
    }
    body = json.dumps(payload)[:-1] + ', "submission_id": "'

    def own_email(submission_id: str) -> str:
        return ", " + json.dumps({"email": patient_email(submission_id)})[1:]

    return [Variant(headers=JSON, before=body, after='"', suffix=own_email)]


def floor_form_variants() -> list[Variant]:
    # The floor app ignores fields it does not know: the unique id costs it nothing but parsing.
    return [Variant(headers=FORM, before=urllib.parse.urlencode(FLOOR) + "&submission_id=")]


def floor_json_variants() -> list[Variant]:
    return [
        Variant(headers=JSON, before=json.dumps(FLOOR)[:-1] + ', "submission_id": "', after='"}')
    ]
