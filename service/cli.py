"""The `quote-desk` command (also `python -m service`)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import logging.config
import os
import re
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import click
import uvicorn
import uvicorn.config
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from service import check as checks
from service import facilitators as facilitator_service
from service import logs, migrations
from service.accounts.coordinators import ROLES, create_coordinator
from service.app import create_app
from service.background import background
from service.clock import utc_now
from service.db import Database, is_unavailable
from service.desk.demo import insert_demo_leads
from service.edge import LOG_FILTER, EscapeControls
from service.errors import DomainError
from service.languages import LANGUAGES
from service.leads import consents, messages, retention
from service.mail.devsink import start_dev_sink
from service.models import Coordinator
from service.settings import Env, Settings

T = TypeVar("T")
WORKER_HEALTHCHECK_SECONDS = 30


@click.group()
def main() -> None:
    """Quote Desk: lead capture with consent proof and routed email."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Processes serving the app (each with a mail worker unless QUOTE_MAILER_ENABLED=false).",
)
def run(host: str, port: int, workers: int) -> None:
    """Serve the app (and, in development without QUOTE_SMTP_HOST, a mail sink beside it)."""
    settings = Settings()
    say = _announcer(settings)
    sink = None
    if settings.env is Env.development and not settings.smtp_host and settings.mailer_enabled:
        mail_dir = settings.var_dir / "mail"
        try:
            sink = start_dev_sink(directory=mail_dir, port=settings.dev_smtp_port)
        except OSError as exc:
            raise click.ClickException(
                f"The development mail sink cannot listen on 127.0.0.1:{settings.dev_smtp_port} "
                f"({exc.strerror}): is another `quote-desk run` running? Stop it, or set "
                "QUOTE_DEV_SMTP_PORT (or QUOTE_SMTP_HOST for a real mail server)."
            ) from None
        sink_smtp = {
            "smtp_host": "127.0.0.1",
            "smtp_port": settings.dev_smtp_port,
            "smtp_tls": "none",
        }
        settings = settings.model_copy(update=sink_smtp)
        # Processes started by uvicorn read their settings from the environment.
        os.environ.update({f"QUOTE_{k.upper()}": str(v) for k, v in sink_smtp.items()})
        say(
            f"No QUOTE_SMTP_HOST: emails go to the development sink on "
            f"127.0.0.1:{settings.dev_smtp_port}, saved as .eml files in {mail_dir}/"
        )
    elif settings.mailer_enabled and not settings.smtp_host:
        say("QUOTE_SMTP_HOST is not set: emails are queued, and sent once it is.", err=True)
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    processes = f", {workers} processes" if workers > 1 else ""
    say(f"Quote Desk on http://{host}:{port}/  (database: {shown}{processes})")
    if not _any_coordinator(settings):
        say(
            "No desk account yet. Create the first administrator, then sign in at "
            f"http://{host}:{port}/desk/sign-in :\n"
            "    .venv/bin/quote-desk coordinator create you@example.org --role admin"
        )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.trusted_proxies,
        "log_config": log_config(settings),
        # In JSON, the app writes one line per request itself, with the route template.
        "access_log": not settings.json_logs,
    }
    try:
        if workers == 1:
            uvicorn.run(create_app(settings), **options)
        else:
            _serve_processes(workers, options)
    finally:
        if sink is not None:
            sink.stop()


def _serve_processes(workers: int, options: dict[str, Any]) -> None:
    """uvicorn's workers, each building the app from the environment. They share a directory
    for their metrics (prometheus_client's multiprocess mode), so that whichever process
    answers GET /metrics answers for all; it is removed when they stop."""
    with tempfile.TemporaryDirectory(prefix="quote-desk-metrics-") as metrics_dir:
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)
        uvicorn.run(
            "service.app:create_app",
            factory=True,
            workers=workers,
            # uvicorn kills a process that has not answered its health check in this time: its
            # default of 5 s killed processes still importing the app on a busy machine.
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            **options,
        )


def _announcer(settings: Settings) -> Callable[..., None]:
    """How the command tells the operator something: a plain line, or in JSON logs a log line
    like every other (a log shipper reads one format)."""
    if not settings.json_logs:
        return lambda text, err=False: click.echo(text, err=err)
    logging.config.dictConfig(log_config(settings))
    logger = logging.getLogger("service.cli")
    return lambda text, err=False: logger.log(logging.WARNING if err else logging.INFO, text)


# The token of a personal link (/privacy/..., /respond/...) opens a patient's request, and
# lets whoever holds it erase the request or answer for the facilitator: a credential.
_PERSONAL_LINK = re.compile(r"^/(privacy|respond)/(?!link(?:/|$))[^/]+")


class WithoutQueryString(logging.Filter):
    """Access log lines without the query string (the desk's search and filters put names and
    email addresses there: logs never carry personal data), nor a personal link's token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            path = str(args[2]).split("?", 1)[0]
            args[2] = _PERSONAL_LINK.sub(r"/\1/{token}", path)
            record.args = tuple(args)
        return True


def log_config(settings: Settings | None = None) -> dict[str, Any]:
    """uvicorn's logging, without query strings, and escaped (service/edge.py) like the app's."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["without_query"] = {"()": WithoutQueryString}
    config["filters"].update(LOG_FILTER)
    config["handlers"]["access"]["filters"] = ["without_query", *LOG_FILTER]
    config["handlers"]["default"]["filters"] = list(LOG_FILTER)
    return logs.uvicorn_config(config, settings or Settings())


@main.command()
def worker() -> None:
    """Run the mail worker on its own (for many-instance deployments); stops on SIGTERM."""
    settings = Settings()
    if not settings.smtp_host:
        raise click.UsageError("Set QUOTE_SMTP_HOST (and QUOTE_SMTP_PORT) for the worker to send.")
    logs.configure_process(settings)
    for handler in logging.getLogger().handlers:
        handler.addFilter(EscapeControls())
    logging.getLogger("service.cli").info(
        "Mail worker: %s:%s. Ctrl-C or SIGTERM stops.", settings.smtp_host, settings.smtp_port
    )
    asyncio.run(_run_worker(settings))


async def _run_worker(settings: Settings) -> None:
    database = Database(settings)
    work = background(database=database, settings=settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    work.start()
    try:
        await stopping.wait()
    finally:
        await work.stop()
        await database.dispose()


@main.command()
def check() -> None:
    """Check the configuration and reach every dependency (the database and its migrations, the
    SMTP server with its TLS and login, Redis); exit 1 when something is wrong. Sends nothing."""
    try:
        settings = Settings()
    except ValidationError as exc:
        findings = checks.settings_problems(exc)
    else:
        findings = asyncio.run(checks.everything(settings))
    for finding in findings:
        click.echo(finding.line())
    failed = sum(finding.verdict is checks.Verdict.fail for finding in findings)
    if failed:
        click.echo(f"{failed} problem{'s' if failed > 1 else ''}: see the FAIL lines above.")
        sys.exit(1)
    click.echo("Quote Desk can run with this configuration.")


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
def upgrade() -> None:
    """Apply every migration not yet applied."""
    settings = Settings()
    with _database_answers(settings):
        migrations.upgrade(settings.database_url)
    click.echo("Database is up to date.")


@main.group()
def facilitator() -> None:
    """The facilitators leads are routed to."""


@facilitator.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Shown to patients: who will contact them.")
@click.option(
    "--language",
    "languages",
    multiple=True,
    type=click.Choice(list(LANGUAGES), case_sensitive=False),
    help="Repeat for each; none = any.",
)
@click.option("--treatment", "treatments", multiple=True, help="Repeat; none = any treatment")
@click.option("--destination", "destinations", multiple=True, help="Repeat; none = any")
@click.option(
    "--weight",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Capacity: a weight of 2 receives twice the leads of a weight of 1.",
)
@click.option(
    "--country",
    default=None,
    help="Where the facilitator is established (ISO 3166-1 code, such as BE); in the privacy "
    "notice.",
)
def facilitator_add(
    email: str,
    name: str,
    languages: tuple[str, ...],
    treatments: tuple[str, ...],
    destinations: tuple[str, ...],
    weight: int,
    country: str | None,
) -> None:
    """Add a facilitator who receives leads by email."""
    try:
        data = facilitator_service.FacilitatorInput(
            name=name,
            email=email,
            languages=list(languages),
            treatments=list(treatments),
            destinations=list(destinations),
            weight=weight,
            country=country,
        )
    except ValidationError as exc:
        problems = facilitator_service.input_errors(exc)
        hint = "--country" if set(problems) == {"country"} else "EMAIL or --name"
        raise click.BadParameter(" ".join(problems.values()), param_hint=hint) from None
    _with_database(_add_facilitator, data=data)
    click.echo(f"Added {data.email}.")


async def _add_facilitator(
    database: Database, *, data: facilitator_service.FacilitatorInput
) -> None:
    await database.write(
        facilitator_service.save_facilitator, facilitator_id=None, data=data, now=utc_now()
    )


@facilitator.command("list")
def facilitator_list() -> None:
    """List the facilitators, active or not."""

    async def show(database: Database) -> None:
        async with database.session() as session:
            rows = await session.run_sync(facilitator_service.list_facilitators)
        if not rows:
            click.echo("No facilitators yet: add one with `quote-desk facilitator add`.")
        for f in rows:
            click.echo(
                f"{f.email}\t{f.name}\t{'active' if f.active else 'disabled'}\tweight {f.weight}"
                f"\tlanguages: {', '.join(f.languages) or 'any'}"
                f"\ttreatments: {', '.join(f.treatments) or 'any'}"
                f"\tdestinations: {', '.join(f.destinations) or 'any'}"
                f"\tcountry: {f.country or 'not given'}"
            )

    _with_database(show)


@facilitator.command("disable")
@click.argument("email")
def facilitator_disable(email: str) -> None:
    """Stop routing new leads to a facilitator (their past leads stay theirs)."""
    _set_active(email, active=False)
    click.echo(f"Disabled {email}.")


@facilitator.command("enable")
@click.argument("email")
def facilitator_enable(email: str) -> None:
    """Route new leads to a disabled facilitator again."""
    _set_active(email, active=True)
    click.echo(f"Enabled {email}.")


def _set_active(email: str, *, active: bool) -> None:
    _with_database(_write_active, email=email, active=active)


async def _write_active(database: Database, *, email: str, active: bool) -> None:
    await database.write(facilitator_service.set_active, email=email, active=active, now=utc_now())


@contextlib.contextmanager
def _database_answers(settings: Settings) -> Iterator[None]:
    """A database that does not answer is said in one line (exit status 1), not a traceback."""
    try:
        yield
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        cause = type(exc.__cause__ or exc).__name__
        raise click.ClickException(
            f"The database does not answer ({cause}): is it running, and is "
            f"QUOTE_DATABASE_URL ({shown}) right?"
        ) from None


def _with_database(
    action: Callable[..., Awaitable[T]], settings: Settings | None = None, **kwargs: Any
) -> T:
    """Run `action(database, **kwargs)` with a database (on the environment's settings unless
    given), and close it. A refusal of the domain becomes the command's error message, and so
    does a database that does not answer."""
    chosen = settings or Settings()

    async def go() -> T:
        database = Database(chosen)
        try:
            return await action(database, **kwargs)
        finally:
            await database.dispose()

    try:
        with _database_answers(chosen):
            return asyncio.run(go())
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


@main.command()
@click.option(
    "--older-than",
    "closed_days",
    required=True,
    type=click.IntRange(min=1, max=retention.MAX_DAYS),
    metavar="DAYS",
    help="Erase closed leads (won, lost, spam, duplicate) unchanged for more than DAYS days.",
)
@click.option(
    "--unclosed-older-than",
    "open_days",
    type=click.IntRange(min=1, max=retention.MAX_DAYS),
    metavar="DAYS",
    help="Erase open leads received more than DAYS days ago "
    "[default: QUOTE_RETENTION_UNCLOSED_DAYS, 365].",
)
@click.option("--dry-run", is_flag=True, help="Say which leads would be erased; change nothing.")
def purge(closed_days: int, open_days: int | None, dry_run: bool) -> None:
    """Erase old leads the way a patient's erasure does (idempotent)."""
    settings = Settings()
    limits = retention.Limits(
        closed_days=closed_days, open_days=open_days or settings.retention_unclosed_days
    )
    found = _with_database(_purge, settings, limits=limits, dry_run=dry_run)
    if not found:
        click.echo(
            messages.PURGE_NOTHING.format(
                closed_days=limits.closed_days, open_days=limits.open_days
            )
        )
        return
    heading = messages.PURGE_WOULD if dry_run else messages.PURGE_DONE
    click.echo(heading.format(count=len(found)))
    for lead in found:
        received = lead.received.strftime("%Y-%m-%d")
        click.echo(
            messages.PURGE_LINE.format(
                reference=lead.reference, received=received, reason=lead.reason
            )
        )


async def _purge(
    database: Database, *, limits: retention.Limits, dry_run: bool
) -> list[retention.Due]:
    return await retention.purge(
        database=database, limits=limits, settings=Settings(), now=utc_now(), dry_run=dry_run
    )


@main.group()
def consent() -> None:
    """The consent records' hash chain."""


@consent.command("verify")
@click.option(
    "--anchor",
    metavar="HASH",
    help="A last hash noted earlier (printed by a previous verify): fail unless it is still "
    "in the chain.",
)
def consent_verify(anchor: str | None) -> None:
    """Walk the chain; exit 1 at the first broken link (or a missing anchor)."""
    report = _with_database(_verify_chain, anchor=anchor)
    if report.broken is not None:
        at = report.broken.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        click.echo(
            messages.CHAIN_BROKEN.format(
                consent_id=report.broken.consent_id, at=at, reason=report.broken.reason
            )
        )
        sys.exit(1)
    if report.anchor_found is False:
        click.echo(messages.CHAIN_ANCHOR_MISSING.format(anchor=anchor))
        sys.exit(1)
    click.echo(messages.CHAIN_INTACT.format(records=report.records, head=report.head))


async def _verify_chain(database: Database, *, anchor: str | None) -> consents.ChainReport:
    async with database.session() as session:
        return await consents.verify(session=session, anchor=anchor)


@main.group()
def coordinator() -> None:
    """Desk accounts."""


@coordinator.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="coordinator", show_default=True)
def coordinator_create(email: str, role: str) -> None:
    """Create a desk account. The password is asked for (or read from stdin in scripts)."""
    if sys.stdin.isatty():
        password = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    else:
        password = sys.stdin.readline().rstrip("\n")

    _with_database(_create_coordinator, email=email, password=password, role=role)
    click.echo(f"Coordinator {email} created with role {role}.")


@main.command("demo-data")
@click.option("--leads", "count", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--days", default=365, show_default=True, type=click.IntRange(min=1))
def demo_data(count: int, days: int) -> None:
    """Insert complete demo leads (routed, consents, timeline, emails) for demos and load
    measurements; never in production."""
    settings = Settings()
    if settings.env is Env.production:
        raise click.ClickException("demo-data refuses to run with QUOTE_ENV=production.")
    started = time.perf_counter()
    with click.progressbar(length=count, label="Inserting demo leads", file=sys.stderr) as bar:
        inserted = _with_database(
            _demo_leads, settings, count=count, days=days, progress=bar.update
        )
    click.echo(f"Inserted {inserted} demo leads in {time.perf_counter() - started:.1f} s.")


async def _create_coordinator(database: Database, *, email: str, password: str, role: str) -> None:
    await create_coordinator(
        database=database, email=email, password=password, role=role, now=utc_now()
    )


async def _demo_leads(
    database: Database, *, count: int, days: int, progress: Callable[[int], None]
) -> int:
    return await insert_demo_leads(
        database=database, count=count, now=utc_now(), days=days, progress=progress
    )


async def _has_coordinator(database: Database) -> bool:
    async with database.session() as session:
        return await session.scalar(select(Coordinator.id).limit(1)) is not None


def _any_coordinator(settings: Settings) -> bool:
    try:
        return _with_database(_has_coordinator, settings)
    except SQLAlchemyError:  # not migrated yet: `quote-desk db upgrade` says so
        return True
