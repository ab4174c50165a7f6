"""What an email is (`Email`), Jinja templates -> subject, text and HTML, and a stored email ->
the EmailMessage sent.

HTML comes from an autoescaping environment, the text part from a separate one that never
escapes (a patient's `<` stays `<` in plain text, and becomes `&lt;` in HTML). The subject is
the `subject` block of the `.txt` template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
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


def compose(*, subject: str, text: str, html: str, headers: Mapping[str, str]) -> EmailMessage:
    """The stored parts of an outbox row as one multipart/alternative message.

    The SMTP policy refuses CR or LF in any header value, so nothing stored can add a header.
    """
    message = EmailMessage(policy=SMTP)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    # After the body: set_content() would drop Content-* headers such as Content-Language.
    for name, value in headers.items():
        message[name] = value
    message["Subject"] = subject
    return message
