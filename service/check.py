"""`quote-desk check`: the configuration as the app reads it, and each dependency reached as the
app would reach it (the database and its migration level, the SMTP server with its TLS and login,
Redis), each said in plain words. Nothing is written and no email is sent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from ssl import SSLError

import aiosmtplib
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from service.mail.heartbeat import pulse
from service.mail.render import address_of
from service.mail.sender import SendError, SmtpSender
from service.migrations import alembic_config
from service.settings import Env, Settings

TIMEOUT = 10.0  # seconds for each dependency to answer


class Verdict(StrEnum):
    ok = "ok"
    warn = "warn"
    fail = "FAIL"


@dataclass(frozen=True, slots=True)
class Finding:
    verdict: Verdict
    subject: str
    says: str

    def line(self) -> str:
        return f"{self.verdict:<4} {self.subject}: {self.says}"


def ok(subject: str, says: str) -> Finding:
    return Finding(Verdict.ok, subject, says)


def warn(subject: str, says: str) -> Finding:
    return Finding(Verdict.warn, subject, says)


def fail(subject: str, says: str) -> Finding:
    return Finding(Verdict.fail, subject, says)


def settings_problems(exc: ValidationError) -> list[Finding]:
    """Each refused setting by its variable's name; the value itself is never repeated (it may
    be a password)."""
    found = []
    for error in exc.errors():
        name = "QUOTE_" + "_".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        found.append(fail("settings", message if name == "QUOTE_" else f"{name}: {message}"))
    return found


def configuration(settings: Settings) -> list[Finding]:
    """What the settings mean for a deployment, beyond what start-up refuses."""
    production = settings.env is Env.production
    found = [ok("settings", f"read (QUOTE_ENV={settings.env})")]
    if production and not settings.public_base_url.startswith("https://"):
        found.append(
            fail("settings", "QUOTE_PUBLIC_BASE_URL must be https:// in production (email links)")
        )
    if production and make_url(settings.database_url).get_backend_name() == "sqlite":
        found.append(warn("settings", "SQLite serves one machine; several need PostgreSQL"))
    if production and not settings.redis_url:
        found.append(
            warn(
                "settings",
                "QUOTE_REDIS_URL is not set: the rate limit and the desk's counts are per "
                "process, right for one instance only",
            )
        )
    if settings.trusted_proxies.strip() == "*":
        found.append(
            warn(
                "settings",
                "QUOTE_TRUSTED_PROXIES=* believes X-Forwarded-For from anyone: the rate limit "
                "and consent records take the address a client claims",
            )
        )
    if not settings.metrics_token and not settings.metrics_allow:
        found.append(warn("settings", "GET /metrics answers nobody (QUOTE_METRICS_TOKEN/ALLOW)"))
    return found


async def database(settings: Settings) -> list[Finding]:
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    scripts = ScriptDirectory.from_config(alembic_config(settings.database_url))
    head = scripts.get_current_head()
    engine = create_async_engine(settings.database_url, hide_parameters=True)
    workers = None
    try:
        async with asyncio.timeout(TIMEOUT):
            async with engine.connect() as conn:
                current = await conn.run_sync(_current_revision)
            if current == head:
                async with AsyncSession(engine) as session:
                    workers = await pulse(session=session)
    except Exception as exc:  # whatever the driver raises, the operator reads why
        return [fail("database", f"cannot use {where} ({_reason(exc)})")]
    finally:
        await engine.dispose()
    found = [ok("database", f"{where} answers")]
    if current is None:
        found.append(fail("migrations", "the database has no schema: run `quote-desk db upgrade`"))
    elif current == head:
        found.append(ok("migrations", f"at head ({head})"))
    elif not _known(scripts, current):
        found.append(
            fail(
                "migrations",
                f"the database is at {current}, which this release does not know (a newer "
                "release upgraded it?)",
            )
        )
    else:
        found.append(
            fail(
                "migrations",
                f"the database is at {current}, this release needs {head}: run "
                "`quote-desk db upgrade`",
            )
        )
    if workers is not None:
        found.append(_heartbeat(workers.last_beat, settings))
    return found


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except Exception:  # alembic's ResolutionError: no such revision in this release
        return False


def _heartbeat(last_beat: datetime | None, settings: Settings) -> Finding:
    if last_beat is None:
        return warn("mail worker", "no worker has run on this database yet")
    silent = (datetime.now(UTC) - last_beat).total_seconds()
    if settings.worker_silent_seconds and silent > settings.worker_silent_seconds:
        return warn("mail worker", f"silent for {silent:.0f} s: is a worker running?")
    return ok("mail worker", f"last heartbeat {silent:.0f} s ago")


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def smtp(settings: Settings) -> list[Finding]:
    if not settings.smtp_host:
        if settings.env is Env.production:
            return [fail("smtp", "QUOTE_SMTP_HOST is not set: no email can be sent")]
        return [warn("smtp", "QUOTE_SMTP_HOST is not set (`quote-desk run` uses a local sink)")]
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    security = {"none": "without TLS", "starttls": "with STARTTLS", "tls": "over TLS"}[
        settings.smtp_tls
    ]
    login = f", logged in as {settings.smtp_username}" if settings.smtp_username else ""
    sender = SmtpSender.from_settings(settings.model_copy(update={"smtp_timeout": TIMEOUT}))
    try:
        async with sender.connect() as connection:
            await connection.probe(sender=address_of(settings.mail_from))
    except SendError as exc:
        return [fail("smtp", f"{where} {security}{login}: {_smtp_reason(exc, settings)}")]
    sender_address = address_of(settings.mail_from)
    found = [ok("smtp", f"{where} answers {security}{login}; it takes mail from {sender_address}")]
    if settings.smtp_username and settings.smtp_tls == "none":
        found.append(warn("smtp", "the SMTP password travels without TLS (QUOTE_SMTP_TLS)"))
    return found


def _smtp_reason(exc: SendError, settings: Settings) -> str:
    causes = list(_chain(exc))
    if login := next(
        (c for c in causes if isinstance(c, aiosmtplib.SMTPAuthenticationError)), None
    ):
        return f"the login was refused ({login.code} {login.message})"
    if tls := next((c for c in causes if isinstance(c, SSLError)), None):
        return f"TLS failed ({tls.reason or tls}): check QUOTE_SMTP_TLS and the certificate"
    if any(isinstance(c, aiosmtplib.SMTPTimeoutError) for c in causes):
        return "no answer in time"
    if any(isinstance(c, aiosmtplib.SMTPConnectError | OSError) for c in causes):
        return f"cannot connect ({exc.text})"
    if exc.code:
        return f"the server refuses: {exc.code} {exc.text}"
    return exc.text


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


async def redis(settings: Settings) -> list[Finding]:
    if not settings.redis_url:
        return []
    shown = _redis_shown(settings.redis_url)
    client = Redis.from_url(
        settings.redis_url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT
    )
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        return [fail("redis", f"cannot reach {shown} ({_reason(exc)})")]
    finally:
        await client.aclose()
    return [ok("redis", f"{shown} answers (keys under {settings.redis_namespace})")]


def _redis_shown(url: str) -> str:
    scheme, _, rest = url.partition("://")
    _, at, host = rest.rpartition("@")
    return f"{scheme}://{'***@' if at else ''}{host}"


def _reason(exc: BaseException) -> str:
    """The driver's own words: SQLAlchemy's wrapper adds the statement and a link."""
    exc = getattr(exc, "orig", None) or exc
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def everything(settings: Settings) -> list[Finding]:
    found = configuration(settings)
    for part in await asyncio.gather(database(settings), smtp(settings), redis(settings)):
        found += part
    return found
