"""What every instance must share: the submit rate limit, the desk's counts per status and desk
sessions, as litestar stores. With QUOTE_REDIS_URL they live in Redis, under
QUOTE_REDIS_NAMESPACE; without it, in this process (sessions in the database), for one instance.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from time import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import (
    DURATION_VALUES,
    CacheObject,
    DurationUnit,
    RateLimitConfig,
    RateLimitMiddleware,
)
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore

from service.accounts.sessions import DESK_SESSION_STORE, DatabaseStore
from service.db import Database
from service.leads.queries import COUNTS_STORE
from service.leads.refusals import RATE_LIMITED
from service.settings import Settings

if TYPE_CHECKING:
    from litestar import Request
    from litestar.types import Receive, Scope, Send

RATE_LIMIT_STORE = "rate_limit"
FORM_PATH = "/quote"
SUBMIT_PATHS = frozenset({FORM_PATH, "/api/v1/quotes"})

# One step, so that two instances counting the same client at once cannot both take the last
# place: the count goes up, and the window starts with the first request in it.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return {count, redis.call('TTL', KEYS[1])}
"""


def shared_stores(settings: Settings, database: Database) -> dict[str, Store]:
    """The app's stores by name: one Redis client shared by all, or this process's own."""
    if settings.redis_url:
        root = RedisStore.with_client(url=settings.redis_url, namespace=settings.redis_namespace)
        return {
            RATE_LIMIT_STORE: root.with_namespace(RATE_LIMIT_STORE),
            COUNTS_STORE: root.with_namespace(COUNTS_STORE),
            DESK_SESSION_STORE: HashedKeys(root.with_namespace(DESK_SESSION_STORE)),
        }
    return {
        RATE_LIMIT_STORE: MemoryStore(),
        COUNTS_STORE: MemoryStore(),
        DESK_SESSION_STORE: DatabaseStore(database),
    }


def submit_rate_limit(rule: tuple[DurationUnit, int]) -> RateLimitConfig:
    """Quote submissions per client address (`QUOTE_RATE_LIMIT`), counted in the shared store."""
    return RateLimitConfig(
        rate_limit=rule,
        store=RATE_LIMIT_STORE,
        middleware_class=SharedRateLimit,
        check_throttle_handler=lambda request: (
            request.method == "POST" and request.url.path in SUBMIT_PATHS
        ),
    )


class SharedRateLimit(RateLimitMiddleware):
    """litestar's rate limit, with one atomic count per client in Redis. litestar's own reads the
    history, then writes it back under a lock of this process only: two instances (or two
    processes of `run --workers`) would each let the same client through. Over the limit, the
    API answers 429; the form's handler does, with the form and every value the patient typed."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        request = app.request_class(scope)
        if not await self.should_check_request(request=request):
            await self.app(scope, receive, send)
            return
        seen, over = await self._hit(request, self.config.get_store_from_app(app))
        if over and request.url.path != FORM_PATH:
            raise TooManyRequestsException(headers=self.create_response_headers(seen))
        if over:  # the form answers 429 itself, with everything the patient typed
            scope.setdefault("state", {})[RATE_LIMITED] = True
        await self.app(scope, receive, self.create_send_wrapper(send=send, cache_object=seen))

    async def _hit(self, request: Request[Any, Any, Any], store: Store) -> tuple[CacheObject, bool]:
        """Count this request; whether the client was already over the limit."""
        key = self.cache_key_from_request(request)
        if isinstance(store, RedisStore):
            key = store._make_key(key)
            window = DURATION_VALUES[self.unit]
            count, ttl = await store._redis.eval(_HIT, 1, key, str(window))  # type: ignore[misc]
            now = int(time())
            seen = CacheObject(
                history=[now] * min(int(count), self.max_requests),
                reset=now + (int(ttl) if int(ttl) > 0 else window),
            )
            return seen, int(count) > self.max_requests
        async with self._lock:  # litestar's own, in this process
            seen = await self.retrieve_cached_history(key, store)
            if len(seen.history) >= self.max_requests:
                return seen, True
            await self.set_cached_history(key=key, cache_object=seen, store=store)
            return seen, False


class HashedKeys(Store):
    """A store under SHA-256 keys: a copy of Redis is not a set of live session cookies (as the
    database store does for its table)."""

    __slots__ = ("store",)

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        await self.store.set(self._key(key), value, expires_in)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await self.store.get(self._key(key), renew_for)

    async def delete(self, key: str) -> None:
        await self.store.delete(self._key(key))

    async def delete_all(self) -> None:
        await self.store.delete_all()

    async def exists(self, key: str) -> bool:
        return await self.store.exists(self._key(key))

    async def expires_in(self, key: str) -> int | None:
        return await self.store.expires_in(self._key(key))

    async def __aenter__(self) -> None:
        await self.store.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.store.__aexit__(exc_type, exc_val, exc_tb)
