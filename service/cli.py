"""The `quote-desk` command (also `python -m service`)."""

from __future__ import annotations

import asyncio
import copy
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
import uvicorn
import uvicorn.config
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from service import migrations
from service.app import create_app
from service.db import Database
from service.desk import messages
from service.desk.accounts import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    CoordinatorExists,
    PasswordTooShort,
    create_coordinator,
)
from service.desk.demo import insert_demo_leads
from service.leads import facilitators as facilitator_service
from service.leads.schemas import LANGUAGES
from service.mail.devsink import start_dev_sink
from service.mail.worker import Worker
from service.models import Coordinator
from service.settings import Env, Settings

T = TypeVar("T")


@click.group()
def main() -> None:
    """Quote Desk: lead capture with consent proof and routed email."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Serve the app (and, in development without QUOTE_SMTP_HOST, a mail sink beside it)."""
    settings = Settings()
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
        settings = settings.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": settings.dev_smtp_port,
                "smtp_tls": "none",
            }
        )
        click.echo(
            f"No QUOTE_SMTP_HOST: emails go to the development sink on "
            f"127.0.0.1:{settings.dev_smtp_port}, saved as .eml files in {mail_dir}/"
        )
    elif settings.mailer_enabled and not settings.smtp_host:
        click.echo("QUOTE_SMTP_HOST is not set: emails are queued, and sent once it is.", err=True)
    click.echo(f"Quote Desk on http://{host}:{port}/  (database: {settings.database_url})")
    if not _any_coordinator(settings):
        click.echo(
            "No desk account yet. Create the first administrator, then sign in at "
            f"http://{host}:{port}/desk/sign-in :\n"
            "    .venv/bin/quote-desk coordinator create you@example.org --role admin"
        )
    try:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            proxy_headers=True,
            forwarded_allow_ips=settings.trusted_proxies,
            log_config=log_config(),
        )
    finally:
        if sink is not None:
            sink.stop()


class WithoutQueryString(logging.Filter):
    """Access log lines without the query string: the desk's search and filters put names and
    email addresses there, and logs never carry personal data."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            args[2] = str(args[2]).split("?", 1)[0]
            record.args = tuple(args)
        return True


def log_config() -> dict[str, Any]:
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["without_query"] = {"()": WithoutQueryString}
    config["handlers"]["access"]["filters"] = ["without_query"]
    return config


@main.command()
def worker() -> None:
    """Run the mail worker on its own (for many-instance deployments); stops on SIGTERM."""
    settings = Settings()
    if not settings.smtp_host:
        raise click.UsageError("Set QUOTE_SMTP_HOST (and QUOTE_SMTP_PORT) for the worker to send.")
    click.echo(f"Mail worker: {settings.smtp_host}:{settings.smtp_port}. Ctrl-C or SIGTERM stops.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_run_worker(settings))


async def _run_worker(settings: Settings) -> None:
    database = Database(settings)
    mail_worker = Worker(database=database, settings=settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    mail_worker.start()
    try:
        await stopping.wait()
    finally:
        await mail_worker.stop()
        await database.dispose()


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
def upgrade() -> None:
    """Apply every migration not yet applied."""
    migrations.upgrade(Settings().database_url)
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
def facilitator_add(
    email: str,
    name: str,
    languages: tuple[str, ...],
    treatments: tuple[str, ...],
    destinations: tuple[str, ...],
    weight: int,
) -> None:
    """Add a facilitator who receives leads by email."""
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from None

    async def add(database: Database) -> None:
        await database.write(
            lambda session: facilitator_service.add_facilitator(
                session=session,
                name=name,
                email=email,
                languages=languages,
                treatments=treatments,
                destinations=destinations,
                weight=weight,
                now=datetime.now(UTC),
            )
        )

    try:
        _with_database(add)
    except IntegrityError:
        raise click.ClickException(
            f"A facilitator with the email {email} already exists."
        ) from None
    except ValueError as exc:
        raise click.ClickException(f"{str(exc).capitalize()}.") from None
    click.echo(f"Added {email}.")


@facilitator.command("list")
def facilitator_list() -> None:
    """List the facilitators, active or not."""

    async def show(database: Database) -> None:
        async with database.session() as session:
            rows = await session.run_sync(
                lambda sync_session: facilitator_service.list_facilitators(session=sync_session)
            )
        if not rows:
            click.echo("No facilitators yet: add one with `quote-desk facilitator add`.")
        for f in rows:
            click.echo(
                f"{f.email}\t{f.name}\t{'active' if f.active else 'disabled'}\tweight {f.weight}"
                f"\tlanguages: {', '.join(f.languages) or 'any'}"
                f"\ttreatments: {', '.join(f.treatments) or 'any'}"
                f"\tdestinations: {', '.join(f.destinations) or 'any'}"
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
    async def change(database: Database) -> None:
        await database.write(
            lambda session: facilitator_service.set_active(
                session=session, email=email, active=active, now=datetime.now(UTC)
            )
        )

    try:
        _with_database(change)
    except facilitator_service.FacilitatorNotFound:
        raise click.ClickException(f"No facilitator has the email {email}.") from None


def _with_database(
    action: Callable[[Database], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Run `action` with a database (on the environment's settings unless given); close it."""

    async def go() -> T:
        database = Database(settings or Settings())
        try:
            return await action(database)
        finally:
            await database.dispose()

    return asyncio.run(go())


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

    async def create(database: Database) -> None:
        await create_coordinator(
            database=database, email=email, password=password, role=role, now=datetime.now(UTC)
        )

    try:
        _with_database(create)
    except PasswordTooShort:
        raise click.ClickException(
            messages.PASSWORD_TOO_SHORT.format(min=MIN_PASSWORD_LENGTH)
        ) from None
    except CoordinatorExists:
        raise click.ClickException(messages.COORDINATOR_EXISTS) from None
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
            lambda database: insert_demo_leads(
                database=database,
                count=count,
                now=datetime.now(UTC),
                days=days,
                progress=bar.update,
            ),
            settings,
        )
    click.echo(f"Inserted {inserted} demo leads in {time.perf_counter() - started:.1f} s.")


def _any_coordinator(settings: Settings) -> bool:
    async def look(database: Database) -> bool:
        async with database.session() as session:
            return await session.scalar(select(Coordinator.id).limit(1)) is not None

    try:
        return _with_database(look, settings)
    except SQLAlchemyError:  # not migrated yet: `quote-desk db upgrade` says so
        return True
