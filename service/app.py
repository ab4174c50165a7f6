"""create_app(settings): the one place where the application is wired together."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.datastructures import CacheControlHeader, State
from litestar.di import NamedDependency, Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import File
from litestar.static_files import create_static_files_router

from service.accounts.sessions import session_config
from service.background import background
from service.clock import Clock, utc_now
from service.db import Database, provide_session
from service.desk.controllers import desk_router
from service.desk.display import FILTERS
from service.edge import MAX_BODY_BYTES, Edge, escaped, security_headers
from service.errors import handle_exception
from service.health import healthz, readyz
from service.leads.api import LeadsApi
from service.leads.controllers import QuoteApi, QuotePages
from service.leads.privacy_pages import PrivacyPages
from service.leads.refusals import count_stored_refusals
from service.leads.respond_pages import RespondPages
from service.leads.submit import store_legal_texts
from service.logs import app_config
from service.metrics import RequestObserver, metrics
from service.settings import Settings
from service.stores import shared_stores, submit_rate_limit


@get(
    "/favicon.ico",
    include_in_schema=False,
    sync_to_thread=False,
    cache_control=CacheControlHeader(max_age=86400),
)
def favicon(settings: NamedDependency[Settings]) -> File:
    """Browsers ask for it at the root; it is kept with the other static files."""
    return File(
        settings.static_dir / "favicon.ico",
        media_type="image/x-icon",
        content_disposition_type="inline",
    )


def create_app(settings: Settings | None = None, *, clock: Clock = utc_now) -> Litestar:
    settings = settings or Settings()
    database = Database(settings)
    count_stored_refusals(database)
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
            PrivacyPages,
            RespondPages,
            desk_router(settings),
            LeadsApi,
            healthz,
            readyz,
            metrics,
            favicon,
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
        # The edge first: nothing else reads a request before it was checked.
        middleware=[Edge, session_config(settings).middleware, *middleware],
        before_send=[security_headers(settings)],
        request_max_body_size=MAX_BODY_BYTES,  # the edge enforces it first; this is the backstop
        exception_handlers={Exception: handle_exception},
        logging_config=escaped(app_config(settings)),
        openapi_config=OpenAPIConfig(
            title="Quote Desk",
            version="1",
            path="/schema",
            # The document itself, at /schema too. litestar's HTML viewers (Swagger UI, ReDoc...)
            # load their scripts from CDNs, which the CSP refuses: they showed a blank page.
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
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
