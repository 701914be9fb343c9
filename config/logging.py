"""Structured (JSON lines) logging with the current request id attached to every record.

One format per process: the server (Daphne runs with `-v 0`, so without its plain access log), the worker and
the management commands all log through the `console` handler of settings.LOGGING, one JSON object a line.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class ClientErrorLevelFilter(logging.Filter):
    """Django logs a suspicious request (a Host not in ALLOWED_HOSTS, a body over the limits) at ERROR on
    `django.security.*` while answering it 400: an expected client error, written here at WARNING, without the
    traceback of the exception Django raised itself. Every other record passes unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.name.startswith("django.security.") and status is not None and status < 500:
            if record.levelno > logging.WARNING:
                record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
            record.exc_info, record.exc_text = None, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields given as `extra={"fields": {...}}` are merged in.

    `time` is UTC in ISO 8601 with milliseconds (`2026-11-29T16:03:17.123+00:00`)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
