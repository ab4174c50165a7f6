"""What an email is (`Email`), Jinja templates -> subject, text and HTML, and a stored email ->
the message bytes sent.

HTML comes from an autoescaping environment, the text part from a separate one that never
escapes (a patient's `<` stays `<` in plain text, and becomes `&lt;` in HTML). The subject is
the `subject` block of the `.txt` template.
"""

from __future__ import annotations

import binascii
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.policy import SMTP, SMTPUTF8
from email.utils import parseaddr
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Email:
    """A rendered email and its addressing, ready to be queued."""

    kind: str
    to: str  # the To header, `Name <address>`
    recipient: str  # the envelope recipient: the bare address, never parsed from a header
    rendered: Rendered
    headers: dict[str, str] = field(default_factory=dict)


@cache
def _environments(directory: Path) -> tuple[Environment, Environment]:
    loader = FileSystemLoader(directory)
    text = Environment(
        loader=loader,
        autoescape=False,  # noqa: S701 - plain text, never shown as HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    html = Environment(
        loader=loader,
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return text, html


# The outbox column's size; long form values (a 200-character treatment and destination)
# could otherwise make a subject the database refuses, and lose the submit with it.
MAX_SUBJECT = 500


def one_line(value: str) -> str:
    """Collapse all whitespace, line breaks included: for subjects and display names."""
    return " ".join(value.split())


def render(name: str, *, directory: Path, context: Mapping[str, Any]) -> Rendered:
    """Render `name.txt` (with its `subject` block) and `name.html`."""
    text_env, html_env = _environments(directory)
    text_template = text_env.get_template(f"{name}.txt")
    subject = one_line(
        "".join(text_template.blocks["subject"](text_template.new_context(dict(context))))
    )
    if len(subject) > MAX_SUBJECT:
        subject = subject[: MAX_SUBJECT - 1].rstrip() + "…"
    text = text_template.render(context)
    html = html_env.get_template(f"{name}.html").render({**context, "subject": subject})
    return Rendered(subject=subject, text=text, html=html)


# Cached: the header classes cost a submit more than its inserts, and the same facilitators'
# (and a patient's own, twice per submit) come back again and again.
@lru_cache(maxsize=4096)
def mailbox(name: str | None, email: str) -> str:
    """`Name <email>` with the name quoted as needed: commas or brackets in it stay a name."""
    return str(Address(display_name=one_line(name or ""), addr_spec=email))


def address_of(mailbox_header: str) -> str:
    """The bare address of a `Name <email>` value, for the SMTP envelope."""
    return parseaddr(mailbox_header)[1]


# Headers whose value is a list of mailboxes: one with a non-ASCII address is sent as UTF-8.
ADDRESS_HEADERS = frozenset({"from", "to", "cc", "reply-to", "sender"})
LINE = 78  # the line length RFC 5322 recommends, as the email package folds


def compose(*, subject: str, text: str, html: str, headers: Mapping[str, str]) -> bytes:
    """The stored parts of an outbox row as one multipart/alternative message, ready for DATA.

    Written here rather than built as an `EmailMessage`, whose parsing of every header and
    folding of it again cost several milliseconds per message (most of a worker's time): both
    parts are UTF-8 in quoted-printable, so the message is 7-bit and needs no server extension;
    a short ASCII header is written as stored (`mailbox` already quoted its name), any other is
    folded by the email package's SMTP policy (RFC 2047 words for non-ASCII text). A CR or LF in
    any header value is refused (ValueError), so nothing stored can add a header.
    """
    boundary = "=_" + secrets.token_hex(16)  # "=_" never occurs in quoted-printable text
    lines = [_header(name, value) for name, value in headers.items()]
    lines += [
        _header("Subject", subject),
        "MIME-Version: 1.0\r\n",
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n',
    ]
    for subtype, body in (("plain", text), ("html", html)):
        lines += [
            f"--{boundary}\r\n",
            f'Content-Type: text/{subtype}; charset="utf-8"\r\n',
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
            _quoted_printable(body),
            "\r\n",  # the line break before a boundary belongs to the boundary
        ]
    lines.append(f"--{boundary}--\r\n")
    return "".join(lines).encode()


def _header(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"the {name} header has a line break")
    if value.isascii() and len(name) + len(value) + 2 <= LINE:
        return f"{name}: {value}\r\n"
    utf8 = name.lower() in ADDRESS_HEADERS and not address_of(value).isascii()
    policy = SMTPUTF8 if utf8 else SMTP
    # Through the header's parser: the policy's own fold() leaves a short value as it is.
    folded: str = policy.header_factory(name, value).fold(policy=policy)
    return folded


def _quoted_printable(body: str) -> str:
    """The body's lines (CRLF, CR or LF) as CRLF-ended quoted-printable UTF-8."""
    lines = body.encode().splitlines()
    encoded = binascii.b2a_qp(b"\n".join(lines) + b"\n", istext=True)
    return encoded.decode("ascii").replace("\n", "\r\n")
