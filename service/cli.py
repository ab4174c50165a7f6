"""The `quote-desk` command (also `python -m service`)."""

from __future__ import annotations

import asyncio
import copy
import logging
import sys
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
import uvicorn
import uvicorn.config
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from service import migrations
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
    """Serve the app."""
    settings = Settings()
    click.echo(f"Quote Desk on http://{host}:{port}/  (database: {settings.database_url})")
    if not _run(_any_coordinator(settings)):
        click.echo(
            "No desk account yet. Create the first administrator, then sign in at "
            f"http://{host}:{port}/desk/sign-in :\n"
            "    .venv/bin/quote-desk coordinator create you@example.org --role admin"
        )
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        log_config=log_config(),
    )


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


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
def upgrade() -> None:
    """Apply every migration not yet applied."""
    migrations.upgrade(Settings().database_url)
    click.echo("Database is up to date.")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


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
    _run(_create_coordinator(Settings(), email=email, password=password, role=role))
    click.echo(f"Coordinator {email} created with role {role}.")


async def _create_coordinator(settings: Settings, *, email: str, password: str, role: str) -> None:
    database = Database(settings)
    try:
        async with database.session() as session:
            await create_coordinator(
                session=session, email=email, password=password, role=role, now=datetime.now(UTC)
            )
    except PasswordTooShort:
        raise click.ClickException(
            messages.PASSWORD_TOO_SHORT.format(min=MIN_PASSWORD_LENGTH)
        ) from None
    except CoordinatorExists:
        raise click.ClickException(messages.COORDINATOR_EXISTS) from None
    finally:
        await database.dispose()


@main.command("demo-data")
@click.option("--leads", "count", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--days", default=365, show_default=True, type=click.IntRange(min=1))
def demo_data(count: int, days: int) -> None:
    """Insert realistic fake leads (for demos and load measurements; never in production)."""
    settings = Settings()
    if settings.env is Env.production:
        raise click.ClickException("demo-data refuses to run with QUOTE_ENV=production.")
    started = time.perf_counter()
    inserted = _run(_demo_data(settings, count=count, days=days))
    click.echo(f"Inserted {inserted} demo leads in {time.perf_counter() - started:.1f} s.")


async def _demo_data(settings: Settings, *, count: int, days: int) -> int:
    database = Database(settings)
    try:
        return await insert_demo_leads(
            database=database, count=count, now=datetime.now(UTC), days=days
        )
    finally:
        await database.dispose()


async def _any_coordinator(settings: Settings) -> bool:
    database = Database(settings)
    try:
        async with database.session() as session:
            return await session.scalar(select(Coordinator.id).limit(1)) is not None
    except SQLAlchemyError:  # not migrated yet: `quote-desk db upgrade` says so
        return True
    finally:
        await database.dispose()
