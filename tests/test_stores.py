"""What instances share through Redis (QUOTE_REDIS_URL): the submit rate limit, desk sessions and
the desk's counts per status. Two apps on one database and one Redis stand for two instances."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from service.app import create_app
from service.settings import Settings
from tests.conftest import REDIS_URL
from tests.factories import quote_data
from tests.signed_in import add_coordinator, csrf_token, sign_in

Client = AsyncTestClient  # type: ignore[type-arg]


def shared(settings: Settings, namespace: str, **overrides: object) -> Settings:
    return settings.model_copy(
        update={"redis_url": REDIS_URL, "redis_namespace": namespace, **overrides}
    )


@asynccontextmanager
async def instances(settings: Settings, count: int = 2) -> AsyncIterator[list[Client]]:
    """`count` apps built from the same settings, each with its own client."""
    clients = [AsyncTestClient(app=create_app(settings)) for _ in range(count)]
    for client in clients:
        await client.__aenter__()
        client.follow_redirects = False
    try:
        yield clients
    finally:
        for client in clients:
            await client.__aexit__(None, None, None)


async def test_the_rate_limit_holds_across_instances_and_restarts(
    settings: Settings, redis_namespace: str
) -> None:
    limited = shared(settings, redis_namespace, rate_limit="3/hour")
    async with instances(limited) as (a, b):
        # Eight submits from one address, alternating instances: three get through. (Real
        # concurrency, processes racing for the last place, is in tests/faults/test_instances.py.)
        responses = await asyncio.gather(
            *(
                (a if i % 2 else b).post("/api/v1/quotes", json=quote_data(full_name=f"P {i}"))
                for i in range(8)
            )
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [201] * 3 + [429] * 5, codes
        assert {r.headers["RateLimit-Limit"] for r in responses} == {"3"}
    async with instances(limited, count=1) as (restarted,):
        again = await restarted.post("/api/v1/quotes", json=quote_data())
        assert again.status_code == 429  # a restart does not hand out a new allowance
        assert 0 < int(again.headers["RateLimit-Reset"]) <= 3600


async def test_a_desk_session_works_on_every_instance(
    settings: Settings, redis_namespace: str
) -> None:
    await add_coordinator(settings, "coco@example.org")
    async with instances(shared(settings, redis_namespace)) as (a, b):
        assert (await sign_in(a, "coco@example.org")).status_code == 303
        b.cookies = a.cookies
        assert (await b.get("/desk/leads")).status_code == 200

        # Only hashes of session ids are kept: Redis holds no cookie that signs anyone in.
        session_id = a.cookies["quote_desk_session"]
        redis = Redis.from_url(REDIS_URL)
        try:
            keys = [key.decode() async for key in redis.scan_iter(match=f"{redis_namespace}*")]
        finally:
            await redis.aclose()
        assert any("desk_sessions" in key for key in keys)
        assert not any(session_id in key for key in keys)

        signed_out = await b.post("/desk/sign-out", headers={"x-csrf-token": csrf_token(b)})
        assert signed_out.status_code == 303
        a.cookies = b.cookies
        a.cookies.set("quote_desk_session", session_id)
        after = await a.get("/desk/leads")
        assert after.status_code == 303 and "/desk/sign-in" in after.headers["location"]


def counts(page: str) -> dict[str, int]:
    found = re.findall(r'<span class="desk-count">(\d+)</span> (\w+)</a>', page)
    return {status: int(number) for number, status in found}


async def test_a_status_change_on_one_instance_updates_the_counts_of_all(
    settings: Settings, redis_namespace: str
) -> None:
    await add_coordinator(settings, "coco@example.org")
    # Counts kept for ten minutes: only a shared cache, cleared by the change, shows it at once.
    cached = shared(settings, redis_namespace, desk_counts_seconds=600)
    async with instances(cached) as (a, b):
        created = await a.post("/api/v1/quotes", json=quote_data())
        assert created.status_code == 201
        for client in (a, b):
            assert (await sign_in(client, "coco@example.org")).status_code == 303
        before = counts((await a.get("/desk/leads")).text)
        assert before["new"] == 1 and before["contacted"] == 0

        moved = await b.post(
            f"/desk/leads/{created.json()['id']}/status",
            data={"status": "contacted"},
            headers={"x-csrf-token": csrf_token(b)},
        )
        assert moved.status_code == 303
        after = counts((await a.get("/desk/leads")).text)
        assert after["new"] == 0 and after["contacted"] == 1
