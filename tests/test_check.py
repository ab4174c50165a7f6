"""`quote-desk check` against the real dependencies: a database at head, behind or unknown, an
SMTP server with STARTTLS and a login (nothing sent), Redis; each problem said plainly, exit 1."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from service import migrations
from service.cli import main
from tests.conftest import REDIS_URL, blocking
from tests.smtp import SmtpServer, StartSmtp, free_port

MAIL_FROM = "Quote Desk <quotes@quote-desk.example>"


def check(**env: str) -> Result:
    values = {
        "QUOTE_ENV": "test",
        "QUOTE_MAIL_FROM": MAIL_FROM,
        "QUOTE_SMTP_HOST": "",
        "QUOTE_REDIS_URL": "",
        "QUOTE_METRICS_ALLOW": "127.0.0.1",
        **env,
    }
    return CliRunner().invoke(main, ["check"], env=values)


def lines(result: Result, verdict: str) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith(verdict)]


def accept(user: str, password: str) -> Any:
    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        # handled=False: the server answers 535 itself (True would leave the client waiting).
        return AuthResult(success=ok, handled=False)

    return authenticator


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def relay(
    start_smtp: StartSmtp, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SmtpServer]:
    """A relay as a provider runs one: STARTTLS required before a login, the login required."""
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    yield start_smtp(
        tls_context=context,
        require_starttls=True,
        authenticator=accept("mailer", "relay-password"),
        auth_required=True,
    )


def relay_env(server: SmtpServer, **overrides: str) -> dict[str, str]:
    return {
        "QUOTE_SMTP_HOST": "127.0.0.1",
        "QUOTE_SMTP_PORT": str(server.port),
        "QUOTE_SMTP_TLS": "starttls",
        "QUOTE_SMTP_USERNAME": "mailer",
        "QUOTE_SMTP_PASSWORD": "relay-password",
        **overrides,
    }


def test_everything_answers(database_url: str, relay: SmtpServer, redis_namespace: str) -> None:
    result = check(
        QUOTE_DATABASE_URL=database_url,
        QUOTE_REDIS_URL=REDIS_URL,
        QUOTE_REDIS_NAMESPACE=redis_namespace,
        **relay_env(relay),
    )
    assert result.exit_code == 0, result.output
    assert lines(result, "FAIL") == []
    assert "ok   migrations: at head" in result.output
    assert (
        f"ok   smtp: 127.0.0.1:{relay.port} answers with STARTTLS, logged in as mailer; "
        "it takes mail from quotes@quote-desk.example"
    ) in result.output
    assert f"ok   redis: {REDIS_URL} answers" in result.output
    assert result.output.rstrip().endswith("Quote Desk can run with this configuration.")
    assert relay.inbox.messages == []  # a check sends nothing
    assert "relay-password" not in result.output


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"QUOTE_SMTP_PASSWORD": "wrong"}, "the login was refused (535"),
        ({"QUOTE_SMTP_TLS": "tls"}, "TLS failed"),  # implicit TLS to a STARTTLS port
        ({"QUOTE_SMTP_TLS": "none", "QUOTE_SMTP_USERNAME": ""}, "530"),  # no STARTTLS, no login
    ],
)
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_problems_are_said_plainly(
    sqlite_url: str, relay: SmtpServer, overrides: dict[str, str], says: str
) -> None:
    result = check(QUOTE_DATABASE_URL=sqlite_url, **relay_env(relay, **overrides))
    assert result.exit_code == 1, result.output
    (problem,) = lines(result, "FAIL")
    assert problem.startswith(f"FAIL smtp: 127.0.0.1:{relay.port}") and says in problem
    assert "Traceback" not in result.output and "relay-password" not in result.output


def test_nothing_listening_anywhere(sqlite_url: str) -> None:
    closed = free_port()
    result = check(
        QUOTE_DATABASE_URL=f"postgresql+asyncpg://quote:db-secret@127.0.0.1:{closed}/quote",
        QUOTE_SMTP_HOST="127.0.0.1",
        QUOTE_SMTP_PORT=str(closed),
        QUOTE_REDIS_URL=f"redis://:redis-secret@127.0.0.1:{closed}/0",
    )
    assert result.exit_code == 1
    problems = lines(result, "FAIL")
    assert [p.split(":")[0] for p in problems] == ["FAIL database", "FAIL smtp", "FAIL redis"]
    assert all("Connect call failed" in p or "connecting" in p for p in problems), problems
    assert "db-secret" not in result.output and "redis-secret" not in result.output
    assert "3 problems" in result.output


async def _set_revision(url: str, revision: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    await engine.dispose()


def test_the_migration_level_is_compared_with_this_release(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'levels.db'}"
    empty = check(QUOTE_DATABASE_URL=url)
    assert empty.exit_code == 1
    assert "FAIL migrations: the database has no schema: run `quote-desk db upgrade`" in (
        empty.output
    )

    migrations.upgrade(url)
    migrations.downgrade(url, "-1")
    behind = check(QUOTE_DATABASE_URL=url)
    assert behind.exit_code == 1 and "this release needs" in behind.output

    migrations.upgrade(url)
    blocking(_set_revision(url, "0123456789ab"))
    unknown = check(QUOTE_DATABASE_URL=url)
    assert unknown.exit_code == 1
    assert "is at 0123456789ab, which this release does not know" in unknown.output


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"QUOTE_RATE_LIMIT": "5/fortnight"}, "FAIL settings: QUOTE_RATE_LIMIT: QUOTE_RATE_LIMIT"),
        ({"QUOTE_SMTP_PORT": "twenty-five"}, "FAIL settings: QUOTE_SMTP_PORT: Input should be"),
        (
            {"QUOTE_ENV": "production", "QUOTE_SECRET_KEY": "short"},
            "FAIL settings: QUOTE_SECRET_KEY must be set to a random value",
        ),
    ],
)
def test_settings_that_cannot_work_are_named_without_their_values(
    env: dict[str, Any], says: str
) -> None:
    result = check(QUOTE_SMTP_PASSWORD="smtp-secret", **env)
    assert result.exit_code == 1
    assert says in result.output, result.output
    assert "smtp-secret" not in result.output and "Traceback" not in result.output


def test_production_needs_mail_and_says_what_else_is_missing(sqlite_url: str) -> None:
    migrations.upgrade(sqlite_url)
    result = check(
        QUOTE_ENV="production",
        QUOTE_SECRET_KEY="k" * 48,
        QUOTE_DATABASE_URL=sqlite_url,
        QUOTE_PUBLIC_BASE_URL="http://quotes.example.org",
        QUOTE_METRICS_ALLOW="",
    )
    assert result.exit_code == 1
    assert "FAIL smtp: QUOTE_SMTP_HOST is not set: no email can be sent" in result.output
    assert "FAIL settings: QUOTE_PUBLIC_BASE_URL must be https://" in result.output
    assert "warn settings: QUOTE_REDIS_URL is not set" in result.output
    assert "warn settings: GET /metrics answers nobody" in result.output
