"""The one table of a lead's fields: their labels and how each is shown to a person. The export,
the leads API, the facilitator's email and the desk's lead page all read it."""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal

import pycountry

from service.languages import LANGUAGES
from service.leads.schemas import CONTACT_METHODS, PATIENT_RELATIONS, STROKE_TYPES
from service.models import Lead

Group = Literal["record", "request", "source"]
NOT_GIVEN = "not given"


@dataclass(frozen=True, slots=True)
class LeadField:
    name: str
    label: str
    group: Group
    type: Any  # the value's type in the API
    description: str = ""


LEAD_FIELDS: tuple[LeadField, ...] = (
    LeadField("reference", "Reference", "record", str, "e.g. Q-7K3M9P"),
    LeadField("created_at", "Received", "record", datetime),
    LeadField("status", "Status", "record", str),
    LeadField("full_name", "Name", "request", str),
    LeadField("email", "Email", "request", str),
    LeadField("phone", "Phone", "request", str | None, "E.164, e.g. +32470123456"),
    LeadField("country", "Country of residence", "request", str, "ISO 3166-1 alpha-2"),
    LeadField("language", "Language", "request", str, "en, fr, nl or de"),
    LeadField("patient_relation", "Request is for", "request", str | None),
    LeadField("treatment", "Treatment", "request", str),
    LeadField("destination", "Destination", "request", str),
    LeadField("stroke_type", "Type of stroke", "request", str | None),
    LeadField("stroke_date", "Month of the stroke", "request", str | None, "YYYY-MM"),
    LeadField("medical_summary", "The patient's situation", "request", str | None),
    LeadField("travel_window", "Travel window", "request", str | None),
    LeadField("budget", "Budget", "request", str | None),
    LeadField("contact_method", "Preferred contact", "request", str),
    LeadField("facilitator", "Facilitator", "record", str | None, "the facilitator's name"),
    LeadField(
        "responded_at",
        "First answer",
        "record",
        datetime | None,
        "when a facilitator first answered through their personal link",
    ),
    LeadField(
        "overdue_since",
        "Overdue since",
        "record",
        datetime | None,
        "the deadline its facilitator let pass without an answer (empty: not overdue)",
    ),
    LeadField("source", "Submitted through", "source", str, "form or api"),
    LeadField("utm_source", "utm_source", "source", str | None),
    LeadField("utm_medium", "utm_medium", "source", str | None),
    LeadField("utm_campaign", "utm_campaign", "source", str | None),
    LeadField("utm_term", "utm_term", "source", str | None),
    LeadField("utm_content", "utm_content", "source", str | None),
    LeadField("referrer", "Referrer", "source", str | None),
)
FIELDS_BY_NAME = {f.name: f for f in LEAD_FIELDS}
SOURCES = {"form": "the quote form", "api": "the API"}
_CHOICES: dict[str, dict[str, str]] = {
    "contact_method": CONTACT_METHODS,
    "patient_relation": PATIENT_RELATIONS,
    "stroke_type": STROKE_TYPES,
    "source": SOURCES,
}


def fields_of(group: Group) -> tuple[LeadField, ...]:
    return tuple(f for f in LEAD_FIELDS if f.group == group)


def raw_values(lead: Lead, *, facilitator: str | None) -> dict[str, Any]:
    """Every field's stored value, for machines (the export, the API)."""
    # `facilitator` is given, never read from the lead: that would lazy-load a relationship.
    values = {f.name: getattr(lead, f.name) for f in LEAD_FIELDS if f.name != "facilitator"}
    values["facilitator"] = facilitator
    return values


def shown(lead: Lead, name: str, *, facilitator: str | None = None) -> str:
    """A field's value as a person reads it: names instead of codes, "not given" for blanks."""
    if name == "facilitator":
        return facilitator or "Unrouted"
    value = getattr(lead, name)
    if value is None or value == "":
        return NOT_GIVEN
    if name == "country":
        return f"{country_name(value)} ({value})"
    if name == "language":
        return LANGUAGES.get(value, str(value))
    if name in _CHOICES:
        return _CHOICES[name].get(value, str(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


@cache
def _country_names(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def country_name(code: str, language: str = "en") -> str:
    """The country's common name, in English or translated to `language`."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    name = str(getattr(country, "common_name", None) or country.name)
    return _country_names(language).gettext(name) if language != "en" else name


def language_name(code: str) -> str:
    """A language's English name (`fr` -> French), for coordinators."""
    language = pycountry.languages.get(alpha_2=code)
    return str(language.name) if language is not None else code
