"""One normalisation of a facilitator's address for every way in: the desk, the command line and
QUOTE_DEFAULT_FACILITATOR_EMAIL find the same facilitator however the address was written."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner, Result
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.cli import main
from service.models import Facilitator
from service.settings import Settings
from tests.conftest import make_settings
from tests.factories import fetch_all, stored_leads, submit_form
from tests.signed_in import csrf_token


async def quote_desk(settings: Settings, *args: str) -> Result:
    """The command, as a shell runs it (its own event loop, so its own thread here)."""
    env = {"QUOTE_DATABASE_URL": settings.database_url, "QUOTE_ENV": "test"}
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


async def add_in_desk(admin: AsyncTestClient, email: str, **fields: str) -> int:  # type: ignore[type-arg]
    response = await admin.post(
        "/desk/facilitators",
        headers={"x-csrf-token": csrf_token(admin)},
        data={"name": "Alice Smith Clinic", "email": email, "weight": "1", **fields},
    )
    return response.status_code


async def active_by_email(settings: Settings) -> dict[str, bool]:
    return {f.email: f.active for f in await fetch_all(settings.database_url, Facilitator)}


async def test_added_in_the_desk_disabled_from_the_command_line(
    admin: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    assert await add_in_desk(admin, "Alice.Smith@Clinic.example") == 303

    disabled = await quote_desk(settings, "facilitator", "disable", "alice.smith@clinic.example")
    assert disabled.exit_code == 0, disabled.output
    assert await active_by_email(settings) == {"alice.smith@clinic.example": False}

    enabled = await quote_desk(settings, "facilitator", "enable", "ALICE.SMITH@CLINIC.EXAMPLE")
    assert enabled.exit_code == 0, enabled.output
    assert await active_by_email(settings) == {"alice.smith@clinic.example": True}


async def test_added_on_the_command_line_found_by_the_desk_and_the_command_line(
    admin: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    added = await quote_desk(
        settings, "facilitator", "add", "Alice.Smith@Clinic.example", "--name", "Alice Smith"
    )
    assert added.exit_code == 0, added.output
    listed = await quote_desk(settings, "facilitator", "list")
    assert listed.output.startswith("alice.smith@clinic.example\t")

    # The desk knows it is the same address, whatever its case.
    assert await add_in_desk(admin, "alice.smith@clinic.example") == 400
    page = await admin.get("/desk/facilitators")
    assert page.text.count("alice.smith@clinic.example") == 1

    disabled = await quote_desk(settings, "facilitator", "disable", "Alice.Smith@CLINIC.example")
    assert disabled.exit_code == 0, disabled.output
    assert await active_by_email(settings) == {"alice.smith@clinic.example": False}


async def test_an_internationalised_domain_is_found_in_either_spelling(
    admin: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    assert await add_in_desk(admin, "Alice.Smith@Bücher.example") == 303
    assert await active_by_email(settings) == {"alice.smith@bücher.example": True}

    # The same domain as a mail client or a terminal may write it: punycode.
    ascii_form = "alice.smith@xn--bcher-kva.example"
    disabled = await quote_desk(settings, "facilitator", "disable", ascii_form)
    assert disabled.exit_code == 0, disabled.output
    assert await active_by_email(settings) == {"alice.smith@bücher.example": False}
    assert await add_in_desk(admin, ascii_form) == 400  # already taken, not a second one


async def test_default_facilitator_written_in_punycode_is_the_stored_one(
    admin: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    # A facilitator for another treatment only: this lead falls to the default address, which
    # names the same facilitator in its ASCII form.
    assert await add_in_desk(admin, "Desk@Bücher.example", treatments="knee surgery") == 303
    app = create_app(
        make_settings(settings.database_url, default_facilitator_email="desk@xn--bcher-kva.example")
    )
    async with AsyncTestClient(app=app) as client:
        client.follow_redirects = False
        assert (await submit_form(client)).status_code == 303
    (lead,) = await stored_leads(settings.database_url)
    (facilitator,) = await fetch_all(settings.database_url, Facilitator)
    assert lead.facilitator_id == facilitator.id
    assert [e.kind for e in lead.events] == ["created", "routed"]
