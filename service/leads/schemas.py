"""The quote request: one pydantic model shared by the HTML form and the JSON API."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Literal

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from service.leads import messages

PATIENT_RELATIONS = {"self": "Myself", "family": "A family member", "other": "Someone else"}
STROKE_TYPES = {"ischemic": "Ischemic", "hemorrhagic": "Hemorrhagic", "unknown": "I don't know"}
CONTACT_METHODS = {"email": "Email", "phone": "Phone call", "whatsapp": "WhatsApp"}
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@cache
def countries() -> tuple[tuple[str, str], ...]:
    """(alpha-2, common name) for every ISO 3166-1 country, sorted by name."""
    names = ((c.alpha_2, getattr(c, "common_name", c.name)) for c in pycountry.countries)
    return tuple(sorted(names, key=lambda item: unicodedata.normalize("NFKD", item[1])))


@cache
def country_codes() -> frozenset[str]:
    return frozenset(code for code, _ in countries())


def _error(message: str) -> PydanticCustomError:
    return PydanticCustomError("quote", message)


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _truncate(limit: int) -> BeforeValidator:
    """Tracking values are kept, not refused: a patient never sees an error for them."""

    def cut(value: Any) -> Any:
        value = _blank_to_none(value)
        return value[:limit] if isinstance(value, str) else value

    return BeforeValidator(cut)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_EXCEPT_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


# Letters and marks that show as nothing: Hangul fillers, the combining grapheme joiner, the
# blank Braille pattern. (Format characters, category Cf, are found by their category.)
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u034f\u2800")
_JOINERS = frozenset("\u200c\u200d")  # ZWNJ and ZWJ: Persian and Indic names need them


def hides_text(value: str) -> bool:
    """True when `value` has a character a reader cannot see that changes what they read:
    a bidirectional embedding, override, isolate or mark, a zero-width or other invisible
    format character, or a joiner that joins nothing (at an end, or beside a space)."""
    for i, char in enumerate(value):
        if char in _JOINERS:
            before, after = value[i - 1 : i], value[i + 1 : i + 2]
            if not (_visible(before) and _visible(after)):
                return True
        elif char in _BLANK_LOOKING or unicodedata.category(char) == "Cf":
            return True
    return False


def _visible(char: str) -> bool:
    return bool(char) and not char.isspace() and unicodedata.category(char) != "Cf"


def _single_line(value: str | None) -> str | None:
    if value is not None and _CONTROL.search(value):
        raise _error(messages.TEXT_CHARACTERS)
    return value


def _multi_line(value: str | None) -> str | None:
    if value is not None and _CONTROL_EXCEPT_NEWLINES.search(value):
        raise _error(messages.TEXT_CHARACTERS)
    return value


OptionalLine = Annotated[
    Annotated[str, StringConstraints(max_length=200)] | None, BeforeValidator(_blank_to_none)
]
Destination = Annotated[
    Annotated[str, StringConstraints(max_length=120)] | None, BeforeValidator(_blank_to_none)
]
OptionalText = Annotated[
    Annotated[str, StringConstraints(max_length=4000)] | None, BeforeValidator(_blank_to_none)
]
SubmissionId = Annotated[
    Annotated[str, StringConstraints(max_length=255)] | None, BeforeValidator(_blank_to_none)
]
# An unticked checkbox is simply absent from a form post; an empty value means "not given".
ConsentBox = Annotated[bool, BeforeValidator(lambda value: value or False)]
Tracking = Annotated[str | None, _truncate(255), Field(default=None)]


class QuoteRequest(BaseModel):
    """A patient's request for a free quote.

    Field order matters: `country` and `contact_method` are validated before `phone`, which
    needs both.
    """

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    full_name: str = Field(max_length=1000)
    email: str = Field(max_length=1000)
    country: str
    language: Literal["en", "fr", "nl", "de"]
    contact_method: Literal["email", "phone", "whatsapp"]
    phone: Annotated[str | None, BeforeValidator(_blank_to_none)] = Field(
        default=None, validate_default=True, description="E.164 after validation, e.g. +32470123456"
    )
    patient_relation: Annotated[
        Literal["self", "family", "other"] | None, BeforeValidator(_blank_to_none)
    ] = None
    treatment: OptionalLine = None
    destination: Destination = None
    stroke_type: Annotated[
        Literal["ischemic", "hemorrhagic", "unknown"] | None, BeforeValidator(_blank_to_none)
    ] = None
    stroke_date: Annotated[str | None, BeforeValidator(_blank_to_none)] = Field(
        default=None, description="Month of the stroke, YYYY-MM, not in the future"
    )
    medical_summary: OptionalText = None
    travel_window: OptionalLine = None
    budget: OptionalLine = None
    consent_disclaimer: ConsentBox = Field(default=False, validate_default=True)
    consent_health_data: ConsentBox = Field(default=False, validate_default=True)
    consent_marketing: ConsentBox = False

    submission_id: SubmissionId = Field(
        default=None, description="Client-made id; a repeat returns the same lead"
    )
    utm_source: Tracking = None
    utm_medium: Tracking = None
    utm_campaign: Tracking = None
    utm_term: Tracking = None
    utm_content: Tracking = None
    referrer: Annotated[str | None, _truncate(1000)] = None

    @field_validator("full_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if _CONTROL.search(value):
            raise _error(messages.NAME_CHARACTERS)
        # The name goes into the facilitator's To: and Reply-To: headers and the desk, where
        # a hidden character could make it read as something else.
        if hides_text(value):
            raise _error(messages.NAME_INVISIBLE)
        value = unicodedata.normalize("NFC", value)
        if not 2 <= len(value) <= 120:
            raise _error(messages.NAME_LENGTH)
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if re.search(r"[,;\s]", value) or value.count("@") != 1:
            raise _error(messages.EMAIL_ONE if value.count("@") > 1 else messages.EMAIL_INVALID)
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError:
            raise _error(messages.EMAIL_INVALID) from None

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: Any) -> str:
        code = str(value or "").strip().upper()
        if not code:
            raise PydanticCustomError("missing", messages.REQUIRED["country"])
        if code not in country_codes():
            raise _error(messages.COUNTRY_UNKNOWN)
        return code

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if info.data.get("contact_method") in ("phone", "whatsapp"):
                raise PydanticCustomError("missing", messages.REQUIRED["phone"])
            return None
        country = info.data.get("country")
        if country is None and not value.startswith("+"):
            return value  # the country is wrong and already reported; the number can't be read yet
        try:
            number = phonenumbers.parse(value, country)
        except phonenumbers.NumberParseException:
            raise _error(messages.PHONE_INVALID) from None
        if not phonenumbers.is_valid_number(number):
            raise _error(messages.PHONE_INVALID)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    @field_validator("treatment", "destination", "travel_window", "budget")
    @classmethod
    def _line(cls, value: str | None) -> str | None:
        return _single_line(value)

    @field_validator("treatment", "destination")
    @classmethod
    def _shown_in_subject(cls, value: str | None) -> str | None:
        # Both are in the facilitator's subject line, beside the patient's name.
        if value is not None and hides_text(value):
            raise _error(messages.TEXT_INVISIBLE)
        return value

    @field_validator("medical_summary")
    @classmethod
    def _summary(cls, value: str | None) -> str | None:
        return _multi_line(value)

    @field_validator("stroke_date")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = re.fullmatch(r"(\d{4})-(\d{2})", value)
        if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
            raise _error(messages.MONTH_FORMAT)
        now = datetime.now(UTC)
        if (int(match[1]), int(match[2])) > (now.year, now.month):
            raise _error(messages.MONTH_FUTURE)
        return value

    @field_validator("consent_disclaimer", "consent_health_data")
    @classmethod
    def _required_consent(cls, value: bool, info: ValidationInfo) -> bool:
        if not value:
            raise PydanticCustomError("missing", messages.REQUIRED[info.field_name or ""])
        return value


def field_errors(exc: ValidationError | list[Any]) -> dict[str, str]:
    """One readable message per field, in form order; the first error of a field wins."""
    errors: dict[str, str] = {}
    for error in exc.errors() if isinstance(exc, ValidationError) else exc:
        field = str(error["loc"][0]) if error["loc"] else "__root__"
        if field not in errors:
            errors[field] = _message(field, error)
    order = list(QuoteRequest.model_fields)
    return dict(sorted(errors.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else -1))


def _message(field: str, error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "quote":
        return str(error["msg"])
    if kind == "missing":
        return messages.REQUIRED.get(field) or str(error["msg"])
    if kind == "string_too_long":
        return messages.TOO_LONG.format(max_length=ctx.get("max_length"))
    if kind == "string_too_short":
        return messages.TOO_SHORT.format(min_length=ctx.get("min_length"))
    if kind == "literal_error" and error.get("input") in (None, ""):
        return messages.REQUIRED.get(field, messages.CHOICE_UNKNOWN)
    if kind == "literal_error":
        return messages.CHOICE_UNKNOWN
    if kind == "model_type":
        return messages.NOT_AN_OBJECT
    return messages.INVALID
