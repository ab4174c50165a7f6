"""What the load sends: a patient's quote request as the form posts it (with the hidden fields
each browser got from the landing page) and as JSON, the floor app's equivalent, and the
facilitators a benchmark database starts with."""

from __future__ import annotations

import json
import re
import time
import urllib.parse

from bench.databases import BenchDatabase
from bench.http import Client, hidden_fields
from bench.load import Variant
from bench.processes import quote_desk

# What a patient types; the landing page adds treatment, destination and the hidden fields.
PATIENT = {
    "full_name": "Ana Peeters",
    "email": "ana.peeters@example.org",
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


def form_variants(base_url: str, browsers: int, *, min_fill_seconds: float = 2.0) -> list[Variant]:
    """One variant per simulated browser: it loads the landing page (its own CSRF cookie, CSRF
    token and signed render time) and posts the form; each post gets its own submission_id.
    Returns after the service's minimum fill time, so no post is taken for a bot."""
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
        fields = PATIENT | dict(VISIBLE.findall(page.text)) | hidden | {"website": ""}
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        body = urllib.parse.urlencode(fields) + "&submission_id="
        variants.append(Variant(headers=FORM | {"Cookie": cookie}, before=body))
        client.close()
    time.sleep(min_fill_seconds + 0.2)
    return variants


def json_variants() -> list[Variant]:
    """The JSON API's request: the same fields, consents as booleans, a unique submission_id."""
    payload = {k: (v == "on" if k.startswith("consent_") else v) for k, v in PATIENT.items()} | {
        "treatment": "Stem cell therapy",
        "destination": "Belgium",
    }
    body = json.dumps(payload)[:-1] + ', "submission_id": "'
    return [Variant(headers=JSON, before=body, after='"}')]


def floor_form_variants() -> list[Variant]:
    # The floor app ignores fields it does not know: the unique id costs it nothing but parsing.
    return [Variant(headers=FORM, before=urllib.parse.urlencode(FLOOR) + "&submission_id=")]


def floor_json_variants() -> list[Variant]:
    return [
        Variant(headers=JSON, before=json.dumps(FLOOR)[:-1] + ', "submission_id": "', after='"}')
    ]
