"""create_app(settings): the one place where the application is wired together."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import ResponseHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from service.accounts.sessions import session_config
from service.background import background
from service.clock import Clock, utc_now
from service.db import Database, provide_session
from service.desk.controllers import desk_router
from service.desk.display import FILTERS
from service.errors import handle_exception
from service.health import healthz, readyz
from service.leads.api import LeadsApi
from service.leads.controllers import QuoteApi, QuotePages
from service.leads.respond_pages import RespondPages
from service.leads.submit import store_legal_texts
from service.logs import app_config
from service.metrics import RequestObserver, metrics
from service.settings import Settings
from service.stores import shared_stores, submit_rate_limit

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = [
    ResponseHeader(name="Content-Security-Policy", value=CONTENT_SECURITY_POLICY),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="X-Frame-Options", value="DENY"),
    ResponseHeader(name="Referrer-Policy", value="same-origin"),
]


def create_app(settings: Settings | None = None, *, clock: Clock = utc_now) -> Litestar:
    settings = settings or Settings()
    database = Database(settings)
    # One mail worker and one scheduler per process, sharing the app's database (and so
    # SQLite's write lock); the worker wakes after each commit that queued mail. With
    # QUOTE_MAILER_ENABLED=false neither runs here (`quote-desk worker` runs them).
    work = background(database=database, settings=settings, clock=clock)

    async def on_startup() -> None:
        await database.write(store_legal_texts)
        if settings.mailer_enabled:
            work.start()

    async def on_shutdown() -> None:
        await work.stop()
        await database.dispose()

    middleware = []
    if limit := settings.rate_limit_rule:
        middleware.append(submit_rate_limit(limit).middleware)  # type: ignore[arg-type]

    app = Litestar(
        route_handlers=[
            QuotePages,
            QuoteApi,
            RespondPages,
            desk_router(settings),
            LeadsApi,
            healthz,
            readyz,
            metrics,
            create_static_files_router(path="/static", directories=[settings.static_dir]),
        ],
        dependencies={
            "settings": Provide(lambda: settings, sync_to_thread=False, use_cache=True),
            "database": Provide(lambda: database, sync_to_thread=False, use_cache=True),
            "session": Provide(provide_session),
            "now": Provide(clock, sync_to_thread=False),
        },
        state=State({"settings": settings, "database": database, "clock": clock}),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        stores=shared_stores(settings, database),
        csrf_config=settings.csrf_config(),
        template_config=settings.template_config(filters=FILTERS),
        middleware=[session_config(settings).middleware, *middleware],
        response_headers=SECURITY_HEADERS,
        exception_handlers={Exception: handle_exception},
        logging_config=app_config(settings),
        openapi_config=OpenAPIConfig(
            title="Quote Desk",
            version="1",
            path="/schema",
            description=__doc__,
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="A personal API token created in the desk (API tokens).",
                    )
                }
            ),
        ),
        debug=False,
    )
    # Around routing itself (where litestar's middleware cannot be), so that a 404, a 405 or a
    # refusal before any handler is measured (and logged) too.
    app.asgi_handler = RequestObserver(app.asgi_handler, log_requests=settings.json_logs)
    return app
