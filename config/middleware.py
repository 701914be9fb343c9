"""Request id, request logging and body-size bounds for every request."""

import logging
import re
import time
import uuid

from django.http import HttpResponse

from config.body_limits import TOO_LARGE_CODE, TOO_LARGE_DETAIL, body_limit, declared_length
from config.exceptions import database_unavailable_response, is_database_unavailable, json_error
from config.logging import loggable_path, request_id_var

request_logger = logging.getLogger("thebot.requests")
# A client-supplied id is echoed only when it is short and plain, so it cannot inject into logs or headers.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def incoming_request_id(header_value: str | None) -> str:
    if header_value and _VALID_REQUEST_ID.match(header_value):
        return header_value
    return uuid.uuid4().hex


def response_log_level(status: int) -> int:
    """The level of a request's log line: an unexpected failure (5xx) is an ERROR; a deliberate 503 (a part
    not configured or unreachable, readiness failing) a WARNING; everything else, client errors included, INFO."""
    if status >= 500:
        return logging.WARNING if status == 503 else logging.ERROR
    return logging.INFO


class RequestIdMiddleware:
    """Outermost: sets `X-Request-ID` on every response and logs one structured line per request.

    That line is the request's log: Django's own per-response line (django.request: "Not Found: /x" at WARNING,
    "Service Unavailable: /x" at ERROR) is turned off by marking the response logged. Exceptions keep their
    traceback line, written where they are caught (config.exceptions, Django's handler) before this one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = incoming_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        # Not reset on the way out: Django logs 5xx responses after the middleware chain returns, and those
        # lines must carry the id too. The next request on this thread or context sets its own.
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        response._has_been_logged = True  # read by django.utils.log.log_response
        request_logger.log(
            response_log_level(response.status_code),
            "request",
            extra={
                "fields": {
                    "method": request.method,
                    "path": loggable_path(request),
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": _user_id(request),
                }
            },
        )
        return response


def _user_id(request) -> int | None:
    """The signed-in user's id, or None; None too when reading the session's user needs a database that is down."""
    user = getattr(request, "user", None)
    try:
        return getattr(user, "pk", None)
    except Exception as exc:
        if is_database_unavailable(exc):
            return None
        raise


class DatabaseUnavailableMiddleware:
    """A view outside DRF (the admin, Django's auth views) that meets a database out of reach answers 503, as DRF's
    views do through config.exceptions.api_exception_handler: JSON under /api/, plain text elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_database_unavailable(exception):
            return None
        response = database_unavailable_response(exception, request)
        if not request.path.startswith("/api/"):
            response = HttpResponse(
                "Service temporarily unavailable.\n", status=503, content_type="text/plain; charset=utf-8"
            )
            response["Retry-After"] = "1"
        return response


class BodySizeLimitMiddleware:
    """Refuses a request whose declared body exceeds its route's limit (config.body_limits) with 413, before
    reading it. The server process and the ASGI guard refuse earlier; this keeps the limits under WSGI too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = declared_length(request.META.get("CONTENT_LENGTH")) or 0
        if length > body_limit(request.path):
            return json_error(413, TOO_LARGE_DETAIL, TOO_LARGE_CODE)
        return self.get_response(request)
