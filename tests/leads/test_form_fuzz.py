"""The quote form (`POST /quote`) under hypothesis: arbitrary bytes and unicode, control
characters, huge and deeply nested values, missing and repeated keys, wrong content types and
charsets. Never a 5xx, and never a partial lead: every stored lead has its three consents, its
`created` event, and all of its emails (none for spam)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import func, select

from service.app import create_app
from service.db import Database
from service.models import Consent, Lead, LeadEvent, OutboxMessage
from tests.conftest import make_settings
from tests.factories import hidden_inputs, quote_form

FACILITATOR = "desk@facilitator.example"
FIELDS = [*quote_form(), "treatment", "destination", "patient_relation", "website"]
TRACKING = ["submission_id", "utm_source", "utm_medium", "utm_campaign", "referrer"]
HIDDEN = [*TRACKING, "form_ts", "_csrf_token"]
HIDDEN_VALUE = "<from the page>"
ENCODINGS = ["form"] * 3 + [
    *("latin-1", "utf-16", "unknown-charset", "raw", "json", "nested-json"),
    *("text", "none", "multipart"),
]
EXAMPLES = hypothesis_settings(
    max_examples=120,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

any_text = st.text(max_size=300)  # every code point but surrogates, controls included
controls = st.one_of(  # NUL first: the one PostgreSQL cannot store
    st.just("\x00"), st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), min_size=1)
)
huge = st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=8), st.integers(2_000, 30_000))
tricky = st.sampled_from(
    ["", " ", "on", "off", "true", "0", "-1", "99999999999999999999", "9999-12", "2025-13",
     "+32 470 12 34 56", "ZZ", "be", "x@y", "a@b.c\r\nBcc: v@example.org", "\u202eevil", "🧠" * 50]
)  # fmt: skip
with_controls = st.builds(lambda a, c, b: a + c + b, any_text, controls, any_text)
value = st.one_of(any_text, tricky, huge, with_controls, with_controls)  # controls twice as often
nested_key = st.builds(
    lambda name, depth: name + "[x]" * depth, st.sampled_from(FIELDS), st.integers(1, 300)
)
key = st.one_of(st.sampled_from(FIELDS + HIDDEN), nested_key, st.text(max_size=30))


@st.composite
def submissions(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], dict[str, str]]:
    """(encoding, pairs, extra headers): a browser's form, then broken in several ways (the
    hidden fields' values are filled in from the page when the example runs)."""
    form = dict.fromkeys(HIDDEN, HIDDEN_VALUE) | quote_form()
    for name in draw(st.sets(st.sampled_from(FIELDS + HIDDEN), max_size=3)):
        form.pop(name, None)
    for name, text in draw(st.dictionaries(key, value, max_size=3)).items():
        form[name] = text  # in place: what the app reads
    pairs = list(form.items())
    pairs += [(k, draw(value)) for k in draw(st.lists(key, max_size=2))]  # repeated keys
    encoding = draw(st.sampled_from(ENCODINGS))
    return encoding, pairs, {"x-forwarded-for": draw(st.sampled_from(["", "10.0.0.1"]))}


def request_for(encoding: str, pairs: list[tuple[str, str]], draw_bytes: bytes) -> dict[str, Any]:
    form_type = "application/x-www-form-urlencoded"
    if encoding == "form":
        return {"content": urlencode(pairs).encode(), "headers": {"content-type": form_type}}
    if encoding == "latin-1":
        body = urlencode(pairs, encoding="latin-1", errors="replace").encode()
        return {"content": body, "headers": {"content-type": f"{form_type}; charset=latin-1"}}
    if encoding == "utf-16":
        body = urlencode(pairs).encode("utf-16")
        return {"content": body, "headers": {"content-type": f"{form_type}; charset=utf-16"}}
    if encoding == "unknown-charset":
        body = urlencode(pairs).encode()
        return {"content": body, "headers": {"content-type": f"{form_type}; charset=x-klingon"}}
    if encoding == "raw":
        return {"content": draw_bytes, "headers": {"content-type": form_type}}
    if encoding == "json":
        body = json.dumps(dict(pairs)).encode()
        return {"content": body, "headers": {"content-type": "application/json"}}
    if encoding == "nested-json":
        body = b'{"full_name": ' + b"[" * 2000 + b"]" * 2000 + b"}"
        return {"content": body, "headers": {"content-type": "application/json"}}
    if encoding == "text":
        return {"content": urlencode(pairs).encode(), "headers": {"content-type": "text/plain"}}
    if encoding == "multipart":
        return {"data": dict(pairs), "files": {"upload": draw_bytes}}
    return {"content": urlencode(pairs).encode()}  # no content type at all


async def partial_leads(database: Database) -> list[str]:
    """Every stored lead that lacks part of what one submit writes in its one transaction."""

    def count(model: Any, *where: Any) -> Any:
        return (
            select(func.count()).select_from(model).where(model.lead_id == Lead.id, *where)
        ).scalar_subquery()

    query = select(
        Lead.reference,
        Lead.status,
        count(Consent),
        count(Consent, Consent.kind.in_(["disclaimer", "health_data", "marketing"])),
        count(LeadEvent, LeadEvent.kind == "created"),
        count(OutboxMessage),
        count(OutboxMessage, OutboxMessage.kind == "facilitator_new_lead"),
        count(OutboxMessage, OutboxMessage.kind == "patient_confirmation"),
    )
    async with database.session() as session:
        rows = (await session.execute(query)).all()
    problems = []
    for reference, status, consents, known, created, emails, facilitator, patient in rows:
        whole = consents == known == 3 and created == 1
        whole = whole and (
            emails == 0 if status == "spam" else (emails, facilitator, patient) == (2, 1, 1)
        )
        if not whole:
            problems.append(
                f"{reference} ({status}): {consents} consents, {created} created, "
                f"{emails} emails ({facilitator} facilitator, {patient} patient)"
            )
    return problems


def fuzz(database_url: str, test: Callable[[TestClient, dict[str, str]], None]) -> None:  # type: ignore[type-arg]
    settings = make_settings(database_url, default_facilitator_email=FACILITATOR)
    with TestClient(app=create_app(settings)) as client:
        client.follow_redirects = False
        hidden = hidden_inputs(client.get("/").text)
        test(client, hidden)


def test_no_form_post_gives_a_5xx_or_a_partial_lead(database_url: str) -> None:
    def run(client: TestClient, hidden: dict[str, str]) -> None:  # type: ignore[type-arg]
        csrf = {"x-csrf-token": hidden["_csrf_token"]}

        @EXAMPLES
        @given(submission=submissions(), raw=st.binary(max_size=3000))
        def post(submission: tuple[str, list[tuple[str, str]], dict[str, str]], raw: bytes) -> None:
            encoding, pairs, headers = submission
            page = {**hidden, "submission_id": uuid.uuid4().hex}
            pairs = [(k, page.get(k, "") if v == HIDDEN_VALUE else v) for k, v in pairs]
            request = request_for(encoding, pairs, raw)
            request["headers"] = {**request.get("headers", {}), **headers, **csrf}
            response = client.post("/quote", **request)
            assert response.status_code < 500, (encoding, response.status_code, response.text[:300])
            if response.status_code == 303:
                assert response.headers["location"].startswith("/quote/thanks/Q-")
            assert client.blocking_portal.call(partial_leads, client.app.state.database) == []

        post()

    fuzz(database_url, run)


def test_a_browsers_form_with_any_text_is_stored_whole_or_refused_beside_a_field(
    database_url: str,
) -> None:
    """The realistic case, many times over: a browser's form with any text in a few fields,
    the hidden ones included (a page's `utm_*` come from whatever link the reader followed).
    Stored whole, or the form again with a message, or (a NUL, which no person types) the
    error page; never a 5xx."""

    def run(client: TestClient, hidden: dict[str, str]) -> None:  # type: ignore[type-arg]
        @EXAMPLES
        @given(
            values=st.dictionaries(
                st.sampled_from(FIELDS + TRACKING), value, min_size=1, max_size=2
            )
        )
        def post(values: dict[str, str]) -> None:
            form = {**hidden, "submission_id": uuid.uuid4().hex, **quote_form(), **values}
            response = client.post("/quote", data=form, headers={"accept": "text/html"})
            assert response.status_code in (303, 400, 413), response.status_code
            if response.status_code == 400 and any("\x00" in v for v in values.values()):
                assert "Something in the request was not right" in response.text  # NUL: refused
            elif response.status_code == 400:  # the form again, each message beside its field
                assert 'class="field-error"' in response.text or "send it again" in response.text
            assert client.blocking_portal.call(partial_leads, client.app.state.database) == []

        post()

    fuzz(database_url, run)
