"""The quote request's rules, value by value: what a patient may type and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from service.leads.schemas import QuoteRequest, field_errors
from tests.factories import quote_data, quote_form


def errors_for(**overrides: object) -> dict[str, str]:
    try:
        QuoteRequest.model_validate(quote_data(**overrides))
    except ValidationError as exc:
        return field_errors(exc)
    return {}


def test_valid_request_is_normalised() -> None:
    quote = QuoteRequest.model_validate(
        quote_data(
            full_name="  Zoë  O'Brien ",
            email="Zoe@EXAMPLE.org",
            country="be",
            phone="0470 12 34 56",
        )
    )
    assert quote.full_name == "Zoë  O'Brien"
    assert quote.email == "Zoe@example.org"
    assert quote.country == "BE"
    assert quote.phone == "+32470123456"


def test_form_strings_are_read_like_json() -> None:
    assert QuoteRequest.model_validate(quote_form()) == QuoteRequest.model_validate(quote_data())


@pytest.mark.parametrize(
    "email",
    [
        "ana@example.org, jan@example.org",
        "ana@example.org;jan@example.org",
        "ana@example.org\r\nBcc: victim@example.org",
        "ana@example.org\nCc: x@example.org",
        "ana@example.org jan@example.org",
        "Ana <ana@example.org>",
    ],
)
def test_one_single_email_address(email: str) -> None:
    assert "email" in errors_for(email=email)


@pytest.mark.parametrize("email", ["not-an-email", "@example.org", "ana@", "ana@localhost"])
def test_malformed_email(email: str) -> None:
    assert errors_for(email=email)["email"].startswith("Enter a valid email address")


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("A", False),
        ("Al", True),
        ("x" * 120, True),
        ("x" * 121, False),
        ("Ana\r\nBcc: x@example.org", False),
        ("Ana\tPeeters", False),
        ("Nguyễn Thị Minh", True),
        ("محمد عبد الله", True),
        ("李小龙", True),
        ("   ", False),
    ],
)
def test_name_boundaries(name: str, ok: bool) -> None:
    assert ("full_name" not in errors_for(full_name=name)) is ok


# Letters that print as nothing: a name made of them would show as blank.
BLANK_LOOKING = set("\u115f\u1160\u3164\uffa0\u034f\u2800")


@given(
    st.text(
        # Format characters (Cf) are not printable: see the tests of invisible characters.
        alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")),
        min_size=2,
        max_size=120,
    ).filter(lambda s: len(s.strip()) >= 2 and not BLANK_LOOKING & set(s))
)
def test_any_printable_name_of_valid_length_is_accepted(name: str) -> None:
    assert "full_name" not in errors_for(full_name=name)


@given(
    st.text(alphabet=st.characters(categories=("L",)), min_size=1, max_size=40),
    st.characters(categories=("Cf",), exclude_characters="\u200c\u200d"),
)
def test_a_format_character_never_passes_in_a_name(prefix: str, hidden: str) -> None:
    assert "full_name" in errors_for(full_name=f"An{prefix}{hidden}na")


@given(st.text(min_size=1, max_size=40), st.sampled_from(["\r", "\n", "\x00", "\x1b", "\u2028"]))
def test_control_characters_never_pass_in_a_name(prefix: str, control: str) -> None:
    assert "full_name" in errors_for(full_name=f"An{prefix}{control}na")


def test_phone_required_only_for_phone_contact() -> None:
    assert "phone" not in errors_for(phone="", contact_method="email")
    assert "phone" in errors_for(phone="", contact_method="phone")
    assert "phone" in errors_for(phone=None, contact_method="whatsapp")


@pytest.mark.parametrize("phone", ["12", "+99 123", "call me", "+32 470 12 34 56 78 90"])
def test_phone_must_be_a_real_number(phone: str) -> None:
    assert "phone" in errors_for(phone=phone)


def test_phone_is_read_in_the_country_of_residence() -> None:
    quote = QuoteRequest.model_validate(quote_data(country="NL", phone="06 12345678"))
    assert quote.phone == "+31612345678"


@pytest.mark.parametrize("country", ["XX", "Belgium", "BEL", "ZZ"])
def test_country_must_be_iso_alpha2(country: str) -> None:
    assert errors_for(country=country)["country"] == "Choose a country from the list."


def test_country_left_empty_asks_for_it() -> None:
    assert errors_for(country="")["country"] == "Choose the country you live in."


def test_stroke_month_must_be_past_and_well_formed() -> None:
    now = datetime.now(UTC)
    assert "stroke_date" not in errors_for(stroke_date=f"{now.year}-{now.month:02d}")
    assert "stroke_date" in errors_for(stroke_date=f"{now.year + 1}-01")
    for bad in ("2025-13", "2025-3", "03/2025", "1850-01"):
        assert "stroke_date" in errors_for(stroke_date=bad)


def test_free_text_is_bounded() -> None:
    assert "medical_summary" not in errors_for(medical_summary="x" * 4000)
    assert errors_for(medical_summary="x" * 4001)["medical_summary"] == (
        "Keep this under 4000 characters."
    )
    assert "medical_summary" not in errors_for(medical_summary="line one\r\nline two\ttab")
    assert "travel_window" in errors_for(travel_window="soon\r\nBcc: x@example.org")


def test_required_consents_and_optional_marketing() -> None:
    errors = errors_for(consent_disclaimer=False, consent_health_data=False)
    assert set(errors) == {"consent_disclaimer", "consent_health_data"}
    assert "consent_marketing" not in errors_for(consent_marketing=False)


def test_choices_are_closed_lists() -> None:
    assert errors_for(language="es")["language"] == "Choose one of the options."
    assert "contact_method" in errors_for(contact_method="pigeon")
    assert "stroke_type" in errors_for(stroke_type="mild")


def test_missing_everything_names_each_required_field_in_form_order() -> None:
    try:
        QuoteRequest.model_validate({})
    except ValidationError as exc:
        assert list(field_errors(exc)) == [
            "full_name",
            "email",
            "country",
            "language",
            "contact_method",
            "consent_disclaimer",
            "consent_health_data",
        ]


def test_tracking_values_are_trimmed_not_refused() -> None:
    quote = QuoteRequest.model_validate(quote_data(utm_source="s" * 500, referrer="r" * 5000))
    assert len(quote.utm_source or "") == 255 and len(quote.referrer or "") == 1000


def test_destination_fits_its_column() -> None:
    assert "destination" not in errors_for(destination="B" * 120)
    assert errors_for(destination="B" * 121)["destination"] == "Keep this under 120 characters."


NAME_INVISIBLE = (
    "Your name cannot contain invisible characters or characters that change the text's "
    "direction; please type it again."
)


@pytest.mark.parametrize(
    "name",
    [
        "Ana \u202eoc.elpmaxe@srettep",  # right-to-left override: reads backwards
        "Ana\u202a Peeters",  # left-to-right embedding
        "Ana\u2066 Peeters\u2069",  # isolates
        "Ana\u200f Peeters",  # right-to-left mark
        "Ana\u200bPeeters",  # zero-width space
        "Ana\u2060Peeters",  # word joiner
        "\ufeffAna Peeters",  # zero-width no-break space (BOM)
        "Ana Pee\u00adters",  # soft hyphen
        "Ana \U000e0041Peeters",  # tag character
        "\u3164\u3164",  # Hangul fillers: a name that shows as blank
        "Ana\u200d",  # a joiner with nothing to join
        "\u200cAna",
        "Ana \u200c Peeters",
    ],
)
def test_names_refuse_invisible_and_direction_characters(name: str) -> None:
    assert errors_for(full_name=name) == {"full_name": NAME_INVISIBLE}


@pytest.mark.parametrize(
    "name",
    [
        "مهدی\u200cزاده",  # Persian: the zero-width non-joiner inside a family name
        "ශ්\u200dරී ලංකා",  # Sinhala: the zero-width joiner makes the conjunct
        "क्\u200dष पटेल",  # Devanagari half form
        "Zoë O'Brien",
    ],
)
def test_names_keep_the_joiners_scripts_need(name: str) -> None:
    assert errors_for(full_name=name) == {}


def test_treatment_and_destination_refuse_direction_characters() -> None:
    """Both are in the facilitator's subject line, beside the patient's name."""
    errors = errors_for(treatment="Stem cells\u202e", destination="Bel\u200bgium")
    assert set(errors) == {"treatment", "destination"}
