"""Structured (JSON lines) logging with the current request id attached to every record.

One format per process: the server (Daphne runs with `-v 0`, so without its plain access log), the worker and
the management commands all log through the `console` handler of settings.LOGGING, one JSON object a line.
"""

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


# Paths that carry a secret: the calendar feed (`/api/scheduling/feed/<secret>.ics`) is opened by its secret alone.
# Whatever follows the prefix is replaced, also when it does not resolve (a mistyped secret is still one).
_SECRET_PATHS = ((re.compile(r"^(/api/scheduling/feed/).+$", re.DOTALL), r"\1<redacted>.ics"),)
# Any other route with a path parameter of one of these names has that segment replaced (future routes included).
_SECRET_KWARGS = frozenset({"secret", "token", "key", "code", "ticket", "signature"})
REDACTED = "<redacted>"


def loggable_path(request) -> str:
    """The request's path as it may be written to a log, every secret in it replaced by `<redacted>`. Query strings
    are never logged (one may carry a WebSocket ticket or another token): only `request.path` is."""
    path = request.path
    for pattern, replacement in _SECRET_PATHS:
        if pattern.match(path):
            return pattern.sub(replacement, path)
    match = getattr(request, "resolver_match", None)
    if match is not None:
        for name, value in match.kwargs.items():
            if name in _SECRET_KWARGS and isinstance(value, str) and value:
                path = path.replace(value, REDACTED)
    return path


class SecretPathFilter(logging.Filter):
    """Django's own records about a request (`django.request`'s "Internal Server Error: <path>", `django.security`)
    name its path: written with `loggable_path` instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        path = getattr(request, "path", None)
        if not isinstance(path, str):
            return True
        safe = loggable_path(request)
        if safe != path:
            if isinstance(record.args, tuple):
                record.args = tuple(safe if arg == path else arg for arg in record.args)
            if isinstance(record.msg, str):
                record.msg = record.msg.replace(path, safe)
        return True


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
