"""Sign-in throttling: an address that keeps failing is stopped, an account that keeps failing
answers more slowly, and nobody can lock the owner out from their own address.

The app runs under uvicorn as in production (`quote-desk run` trusts the proxy's
X-Forwarded-For), so each client below comes from its own address."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import uvicorn

from service.accounts.coordinators import sign_in
from service.app import create_app
from service.db import Database
from service.settings import Settings
from tests.conftest import make_settings
from tests.factories import hidden_inputs
from tests.signed_in import PASSWORD, add_coordinator
from tests.smtp import free_port

OWNER = "coco@example.org"
OWNER_ADDRESS = "198.51.100.7"
ATTACKERS = [f"203.0.113.{n}" for n in range(1, 6)]


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """The app behind a trusted proxy (127.0.0.1), as `quote-desk run` serves it."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def attempt(base: str, address: str, email: str, password: str) -> httpx.Response:
    """Open the sign-in page and send it, from `address` (a browser of its own)."""
    headers = {"x-forwarded-for": address}
    async with httpx.AsyncClient(base_url=base, headers=headers) as browser:
        page = await browser.get("/desk/sign-in")
        token = hidden_inputs(page.text)["_csrf_token"]
        return await browser.post(
            "/desk/sign-in", data={"_csrf_token": token, "email": email, "password": password}
        )


def app_settings(settings: Settings, **overrides: object) -> Settings:
    # A short slowdown: these tests are about who gets in, not how long it takes.
    return make_settings(settings.database_url, sign_in_max_delay_seconds=0.05, **overrides)


async def test_failures_from_other_addresses_never_lock_out_the_owner(settings: Settings) -> None:
    await add_coordinator(settings, OWNER)
    with serve(app_settings(settings)) as base:
        for address in ATTACKERS:
            failed = await attempt(base, address, OWNER, "wrong guess")
            assert failed.status_code == 400
        owner = await attempt(base, OWNER_ADDRESS, OWNER, PASSWORD)
        assert owner.status_code == 303 and owner.headers["location"] == "/desk/leads"


async def test_an_address_that_keeps_failing_is_stopped_and_the_owner_is_not(
    settings: Settings,
) -> None:
    await add_coordinator(settings, OWNER)
    with serve(app_settings(settings, sign_in_max_failures=3)) as base:
        for address in ATTACKERS[:3]:
            for _ in range(3):
                assert (await attempt(base, address, OWNER, "wrong guess")).status_code == 400
            # That address is stopped, even if it now had the password.
            stopped = await attempt(base, address, OWNER, PASSWORD)
            assert stopped.status_code == 429 and "Too many failed sign-ins" in stopped.text
        owner = await attempt(base, OWNER_ADDRESS, OWNER, PASSWORD)
        assert owner.status_code == 303


async def test_the_owners_own_typos_are_forgiven_when_they_sign_in(settings: Settings) -> None:
    await add_coordinator(settings, OWNER)
    with serve(app_settings(settings, sign_in_max_failures=3)) as base:
        for _ in range(2):  # two days with a few typos each, from the office
            for _ in range(2):
                assert (await attempt(base, OWNER_ADDRESS, OWNER, "typo")).status_code == 400
            assert (await attempt(base, OWNER_ADDRESS, OWNER, PASSWORD)).status_code == 303


class Pauses:
    """Records how long sign-in waited before answering, instead of waiting."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


async def test_an_account_that_keeps_failing_answers_slower_up_to_a_bound(
    settings: Settings,
) -> None:
    await add_coordinator(settings, OWNER)
    database = Database(settings)
    pauses = Pauses()

    async def try_once(address: str, password: str) -> bool:
        async with database.session() as session:
            result = await sign_in(
                session=session,
                database=database,
                email=OWNER,
                password=password,
                ip=address,
                now=datetime.now(UTC),
                max_failures=3,
                window=settings.sign_in_window(),
                max_delay=4.0,
                pause=pauses,
            )
        assert not result.throttled  # a new address each time: never stopped
        return result.coordinator is not None

    try:
        for n in range(7):
            assert not await try_once(f"203.0.113.{n + 1}", "wrong guess")
        assert await try_once(OWNER_ADDRESS, PASSWORD)  # slowed, never refused
        assert not await try_once("203.0.113.99", "wrong guess")
    finally:
        await database.dispose()
    # Three failures answer at once; then 1 s, doubling, never more than the bound; the
    # owner's sign-in clears the account's slowdown.
    assert pauses.seconds == [0, 0, 0, 1, 2, 4, 4, 4, 0]
