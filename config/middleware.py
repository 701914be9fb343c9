"""Request id, request logging and body-size bounds for every request."""

import logging
import re
import time
import uuid

from django.conf import settings

from config.exceptions import json_error
from config.logging import request_id_var

request_logger = logging.getLogger("thebot.requests")
# A client-supplied id is echoed only when it is short and plain, so it cannot inject into logs or headers.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def incoming_request_id(header_value: str | None) -> str:
    if header_value and _VALID_REQUEST_ID.match(header_value):
        return header_value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Outermost: sets `X-Request-ID` on every response and logs one structured line per request."""

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
        user = getattr(request, "user", None)
        request_logger.info(
            "request",
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": getattr(user, "pk", None),
                }
            },
        )
        return response


class BodySizeLimitMiddleware:
    """Refuses a request whose declared body exceeds REQUEST_MAX_BODY_SIZE with 413, before reading it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.REQUEST_MAX_BODY_SIZE:
            return json_error(413, "Request body is too large.", "request_too_large")
        return self.get_response(request)
