"""In development, the desk shows what the local mail sink received, as received."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.mail.devsink import start_dev_sink
from service.settings import Settings
from tests.conftest import make_settings
from tests.signed_in import add_coordinator, sign_in
from tests.smtp import free_port


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, env="development", var_dir=tmp_path)


def send_through_sink(directory: Path, subject: str, body: str) -> None:
    port = free_port()
    sink = start_dev_sink(directory=directory, port=port)
    try:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            "quotes@localhost",
            "ana.peeters@example.org",
            subject,
        )
        message.set_content(body)
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(message)
    finally:
        sink.stop()


async def test_desk_lists_and_shows_sink_messages(
    desk: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    send_through_sink(settings.var_dir / "mail", "We received your request (Q-7K3M9P)", "<b>hi</b>")

    log = await desk.get("/desk/mail")
    assert 'href="/desk/mail/sink"' in log.text
    listing = await desk.get("/desk/mail/sink")
    assert listing.status_code == 200
    assert "We received your request (Q-7K3M9P)" in listing.text
    (name,) = [p.name for p in (settings.var_dir / "mail").iterdir()]

    shown = await desk.get(f"/desk/mail/sink/{name}")
    assert shown.status_code == 200
    assert "To: ana.peeters@example.org" in shown.text
    assert "&lt;b&gt;hi&lt;/b&gt;" in shown.text  # the source as text, never as HTML


async def test_sink_names_cannot_reach_other_files(desk: AsyncTestClient) -> None:  # type: ignore[type-arg]
    for name in ("..%2Fquote-desk.db", "passwd", "20260101-000000-000000-1.eml"):
        assert (await desk.get(f"/desk/mail/sink/{name}")).status_code == 404


async def test_no_sink_pages_outside_development(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, var_dir=tmp_path)  # env "test"
    await add_coordinator(settings, "coco@example.org")
    async with AsyncTestClient(app=create_app(settings)) as client:
        client.follow_redirects = False
        assert (await sign_in(client, "coco@example.org")).status_code == 303
        assert (await client.get("/desk/mail/sink")).status_code == 404
        assert 'href="/desk/mail/sink"' not in (await client.get("/desk/mail")).text
