"""The `quote-desk` command (also `python -m service`)."""

from __future__ import annotations

import click
import uvicorn

from service import migrations
from service.settings import Settings


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
