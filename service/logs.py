"""How the service logs: readable lines in development, one JSON object per line in production
(QUOTE_LOG_FORMAT), the same for uvicorn, the app and the mail worker. What goes in is ids, kinds,
route templates and codes: request lines never carry a path or a query string."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from litestar.logging.config import LoggingConfig

from service.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
JSON_FORMATTER = {"()": "service.logs.JsonFormatter"}
# Attributes every LogRecord has; anything else was given as `extra=` and becomes a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured copy of the message
    "taskName",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's `extra` fields.
    Everything outside ASCII is escaped, so no text can break a line or forge another."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {k: v for k, v in vars(record).items() if k not in _STANDARD and k[0] != "_"}
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=True, default=str)


def uvicorn_config(config: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """uvicorn's logging config (dictConfig), in JSON for the whole process when asked."""
    if not settings.json_logs:
        return config
    for formatter in config["formatters"]:
        config["formatters"][formatter] = dict(JSON_FORMATTER)
    config["root"] = {"handlers": ["default"], "level": "INFO"}
    config["loggers"]["litestar"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def app_config(settings: Settings) -> LoggingConfig:
    """The app's own logging (litestar configures it when the app is built, possibly after
    uvicorn did): litestar's default, with JSON lines when asked."""
    if not settings.json_logs:
        return LoggingConfig()
    return LoggingConfig(formatters={"standard": dict(JSON_FORMATTER)})


def configure_process(settings: Settings) -> None:
    """Logging for a process without uvicorn (`quote-desk worker`)."""
    handler = logging.StreamHandler()
    if settings.json_logs:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
