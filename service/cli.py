"""The `quote-desk` command (also `python -m service`)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
import uvicorn

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
from service.settings import Settings

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
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )


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
