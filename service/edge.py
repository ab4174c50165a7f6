"""The edge: what a request must be before the app reads it, the headers every response
carries, and log lines that input cannot forge. Each rule lives here once, so a new route is
covered without doing anything.

What is cleaned and what is refused, and why:
- a control character in a path value becomes U+FFFD: the value then names nothing, and the
  route answers as for any unknown name, with its own page (dropping it could name another
  thing; refusing here would hide the route's page, such as an answer link's "not valid");
- query values are cleaned (control characters dropped, bad UTF-8 replaced): links are copied,
  shortened and mangled by mail clients, and the reader who follows one should still get the
  article; a filter without an invisible character asks the same question;
- form values are cleaned (control characters dropped, except tab and line breaks, which each
  field's own rules judge, beside the field): they come from people, who paste invisible
  characters (a word processor's line break is a vertical tab) and could not fix what they
  cannot see. NUL is the exception, refused (400): no keyboard or paste sends it, only a
  program, and that one can be told. A form that is not UTF-8 is refused, never guessed: 415
  when it declares another charset, 400 when its bytes are not UTF-8 (browsers send this
  site's forms in UTF-8); multipart bodies get 415 (400 when their bytes are not UTF-8): no
  form here takes files;
- JSON is refused (400) when it is not UTF-8, nests too deep, or has a control character in a
  string (lone surrogates msgspec refuses itself): it comes from programs, whose authors can
  fix what they send, and quietly changing their data would break their own checks;
- a body over MAX_BODY_BYTES is refused (413), with or without a Content-Length;
- an integer in a path beyond what an id column holds is a 404: no such row can exist, and so
  is a file path with a part longer than a file name can be (the file system fails on it).
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_to_bytes, urlencode

import msgspec
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.logging.config import LoggingConfig
from litestar.types import (
    ASGIApp,
    BeforeMessageSendHookHandler,
    HTTPRequestEvent,
    Message,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)

from service.settings import Env, Settings

# The largest form a patient can fill in is under 50 KiB, even in four-byte characters.
MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
MAX_FILE_NAME = 255  # NAME_MAX, in bytes
# Every integer id is an INTEGER column (32 bits on PostgreSQL).
ID_RANGE = range(-(2**31), 2**31)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

BODY_TOO_LARGE = f"The request is larger than {MAX_BODY_BYTES // 1024} KiB."
NOT_UTF8 = "The request is not UTF-8 text; send it in UTF-8."
CHARSET_REFUSED = "Send forms in UTF-8 (browsers do, without declaring a charset)."
MULTIPART_REFUSED = "Send forms as application/x-www-form-urlencoded: no form here takes files."
FORM_NUL = "The form contains a NUL character, which no keyboard types."
JSON_TOO_DEEP = f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep."
JSON_CONTROL = "A text in the JSON has a control character, at {where}."

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}
HSTS = "max-age=31536000"  # not includeSubDomains: the magazine's other hosts are not ours

# C0, DEL and C1: the characters nobody types and PostgreSQL (NUL) or a log reader trips on.
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
CONTROLS_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class Edge:
    """ASGI middleware (outermost in the app's list): checks the path, cleans the query string
    and reads, checks and replays the body before anything else sees the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            check_path(scope)
            clean_query_string(scope)
            if scope.get("method") in BODY_METHODS:
                receive = await checked_body(scope, receive)
        await self.app(scope, receive, send)


def refused(status_code: int, detail: str) -> HTTPException:
    return HTTPException(status_code=status_code, detail=detail)


def check_path(scope: Scope) -> None:
    """The route's path values, as parsed: each names something that can exist, or nothing."""
    params = dict(scope.get("path_params", {}))  # litestar caches the parsed dict: a copy
    for name, value in params.items():
        if isinstance(value, int) and not isinstance(value, bool) and value not in ID_RANGE:
            raise NotFoundException
        if isinstance(value, str):
            if _is_file_path(scope, name) and any(
                len(part.encode()) > MAX_FILE_NAME for part in value.split("/")
            ):
                raise NotFoundException
            params[name] = CONTROLS.sub("\ufffd", value)
    scope["path_params"] = params


def _is_file_path(scope: Scope, name: str) -> bool:
    handler = scope.get("route_handler")
    field = handler.parsed_fn_signature.parameters.get(name) if handler else None
    return field is not None and field.is_subclass_of(PurePath)


def as_id(value: str | None) -> int | None:
    """A query or form value read as a row id: None unless it is ASCII digits an id column
    can hold (`"²".isdigit()` is true, and int() refuses it)."""
    if value and len(value) <= 10 and value.isascii() and value.isdigit():
        number = int(value)
        return number if number in ID_RANGE else None
    return None


def clean_query_string(scope: Scope) -> None:
    raw: bytes = scope.get("query_string", b"")
    if not raw:
        return
    pairs, changed = [], not raw.isascii()
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        clean_name, name_changed = _clean_query_part(name)
        clean_value, value_changed = _clean_query_part(value)
        changed = changed or name_changed or value_changed
        pairs.append((clean_name, clean_value))
    if changed:
        scope["query_string"] = urlencode(pairs, quote_via=quote).encode("ascii")


def _clean_query_part(raw: bytes) -> tuple[str, bool]:
    decoded = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", errors="replace")
    cleaned = CONTROLS.sub("", decoded)
    return cleaned, cleaned != decoded or "\ufffd" in decoded


async def checked_body(scope: Scope, receive: Receive) -> Receive:
    """The whole body, read within the limit, checked (or cleaned), and replayed to the app."""
    body, disconnected = await _read_body(scope, receive)
    media_type, params = content_type(scope)
    if body and media_type == "multipart/form-data":
        _require_utf8(body)  # the bytes are wrong before the type is
        raise refused(415, MULTIPART_REFUSED)
    if media_type == "application/x-www-form-urlencoded":
        cleaned = clean_form(body, params.get("charset", "utf-8"))
        if cleaned is not None:
            body = cleaned
            _set_headers(
                scope,
                {
                    b"content-type": b"application/x-www-form-urlencoded",
                    b"content-length": str(len(body)).encode(),
                },
            )
    elif body:
        check_text(body)
    return _replay(body, disconnected, receive)


async def _read_body(scope: Scope, receive: Receive) -> tuple[bytes, bool]:
    declared = _header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise refused(413, BODY_TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:  # a chunked body has no Content-Length to trust
            raise refused(413, BODY_TOO_LARGE)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, disconnected: bool, receive: Receive) -> Receive:
    request: HTTPRequestEvent = {"type": "http.request", "body": body, "more_body": False}
    pending: list[ReceiveMessage] = [request]
    if disconnected:
        pending.append({"type": "http.disconnect"})

    async def replay() -> ReceiveMessage:
        return pending.pop(0) if pending else await receive()

    return replay


def content_type(scope: Scope) -> tuple[str, dict[str, str]]:
    value = (_header(scope, b"content-type") or "").split(";")
    params = {}
    for item in value[1:]:
        key, _, param = item.partition("=")
        params[key.strip().lower()] = param.strip().strip('"')
    return value[0].strip().lower(), params


def clean_form(body: bytes, charset: str) -> bytes | None:
    """The form without control characters, or None when it had none; NUL is refused."""
    try:
        utf8 = codecs.lookup(charset).name == "utf-8"
    except LookupError:
        utf8 = False
    if not utf8:
        raise refused(415, CHARSET_REFUSED)
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeError:
        raise refused(400, NOT_UTF8) from None
    if any("\x00" in name or "\x00" in value for name, value in pairs):
        raise refused(400, FORM_NUL)
    cleaned = [(CONTROLS.sub("", name), CONTROLS_BUT_LINES.sub("", value)) for name, value in pairs]
    if text.isascii() and cleaned == pairs:
        return None
    return urlencode(cleaned).encode("ascii")


def _require_utf8(body: bytes) -> None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise refused(400, NOT_UTF8) from None


def check_text(body: bytes) -> None:
    """Any other body is text: UTF-8, and when it is JSON, shallow and free of controls."""
    _require_utf8(body)
    try:
        data = msgspec.json.decode(body)
    except RecursionError:
        raise refused(400, JSON_TOO_DEEP) from None
    except (msgspec.DecodeError, ValueError):
        return  # not JSON: the route answers for what it expected
    check_json(data)


def check_json(data: Any) -> None:
    stack: list[tuple[Any, int, str]] = [(data, 0, "$")]
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise refused(400, JSON_TOO_DEEP)
        if isinstance(value, str):
            if CONTROLS_BUT_LINES.search(value):
                raise refused(400, JSON_CONTROL.format(where=where))
        elif isinstance(value, dict):
            for key, item in value.items():
                if CONTROLS_BUT_LINES.search(key):
                    raise refused(400, JSON_CONTROL.format(where=where))
                stack.append((item, depth + 1, f"{where}.{key}"))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, f"{where}[{i}]") for i, item in enumerate(value))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _set_headers(scope: Scope, values: Mapping[bytes, bytes]) -> None:
    kept = [(k, v) for k, v in scope["headers"] if k.lower() not in values]
    scope["headers"] = [*kept, *values.items()]


def security_headers(settings: Settings) -> BeforeMessageSendHookHandler:
    """A before_send hook, so that every response has them: the ones litestar makes itself
    (404 before routing, 405, CSRF's 403, the rate limit's 429, static files) as well as the
    handlers'. A response that sets one itself (the desk's sandboxed email view) keeps its own."""
    wanted = dict(SECURITY_HEADERS)
    if settings.env is Env.production:
        wanted["strict-transport-security"] = HSTS
    encoded = [(name.encode(), value.encode()) for name, value in wanted.items()]

    async def add(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or ())
            present = {bytes(name).lower() for name, _ in headers}
            headers.extend((name, value) for name, value in encoded if name not in present)
            message["headers"] = headers

    return add


# Logs: a request's text can hold a line break followed by what reads like a log line.
_LOG_ESCAPED = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_LOG_ESCAPED_BUT_NEWLINE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def escape_for_log(text: str) -> str:
    return _LOG_ESCAPED.sub(_visible, text)


def _indented(text: str) -> str:
    """A traceback keeps its lines, each indented: only a record starts at the margin."""
    return "\n".join(
        "    " + line for line in _LOG_ESCAPED_BUT_NEWLINE.sub(_visible, text).split("\n")
    )


def _escaped_arg(value: Any) -> Any:
    if isinstance(value, str):
        return escape_for_log(value)
    if value is None or isinstance(value, int | float):
        return value
    text = str(value)
    return escape_for_log(text) if _LOG_ESCAPED.search(text) else value


class EscapeControls(logging.Filter):
    """On every log handler: control and bidirectional characters in a record's message and
    arguments become visible escapes (\\n, \\x00, \\u202e), and every line of a traceback is
    indented, so no text from a request can start a line that reads like a record of its own."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.__dict__.get("_escaped"):  # one record, several handlers
            return True
        record.__dict__["_escaped"] = True
        if isinstance(record.msg, str):
            record.msg = escape_for_log(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_escaped_arg(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _escaped_arg(arg) for key, arg in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _indented(record.exc_text)
        if record.stack_info:
            record.stack_info = _indented(record.stack_info)
        return True


LOG_FILTER = {"escape_controls": {"()": EscapeControls}}


def escaped(config: LoggingConfig) -> LoggingConfig:
    """litestar's logging config (the root logger, where the app's loggers write), with every
    handler escaped."""
    config.filters = {**(config.filters or {}), **LOG_FILTER}
    config.handlers = {
        name: {**handler, "filters": [*handler.get("filters", []), *LOG_FILTER]}
        for name, handler in config.handlers.items()
    }
    return config
