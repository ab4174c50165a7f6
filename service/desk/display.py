"""How the desk shows values a coordinator could be fooled by: an email address whose domain is
internationalised is shown with the domain's ASCII (punycode) form beside it, so a look-alike
domain (a Cyrillic letter that looks Latin) shows for what it is; a country code by its name.
Template filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import idna

from service.leads.fields import country_name


def with_punycode(address: str | None) -> str:
    """`ana@bücher.example` -> `ana@bücher.example (xn--bcher-kva.example)`; ASCII as it is."""
    if not address:
        return ""
    _, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:  # stored before validation: say so rather than guess
        return f"{address} (not a valid domain name)"
    return f"{address} ({ascii_domain})"


FILTERS: dict[str, Callable[..., Any]] = {
    "with_punycode": with_punycode,
    "country_name": country_name,
}
