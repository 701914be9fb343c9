"""Request body limits per route, decided from the path before any byte of the body is read.

Three places keep them, from the outside in:

- the server we ship (`config/server.py`, Daphne with our request class) refuses a declared `Content-Length` above
  the route's limit as soon as the headers are in, and cuts off a chunked body once its running total passes it,
  without buffering the rest;
- `BodyLimitGuard`, an ASGI middleware in front of the whole application, counts the body bytes the server hands
  over (`http.request` messages), so the limits hold under any ASGI server;
- `config.middleware.BodySizeLimitMiddleware` checks the declared length again inside Django (WSGI, the test client).

Each refusal is the project's JSON 413 `request_too_large`. The limits are settings (docs/operations.md):
`LOGIN_MAX_BODY_SIZE` for the logins, `WEBHOOK_MAX_BODY_SIZE` for the two anonymous webhooks, `REQUEST_MAX_BODY_SIZE`
(a maximal file and its form fields) only for the endpoints that take files, `JSON_MAX_BODY_SIZE` for everything
else. None is above `REQUEST_MAX_BODY_SIZE`.
"""

import json
import re

from django.conf import settings

TOO_LARGE_DETAIL = "Request body is too large."
TOO_LARGE_CODE = "request_too_large"
TOO_LARGE_BODY = json.dumps({"detail": TOO_LARGE_DETAIL, "code": TOO_LARGE_CODE}).encode()

LOGIN_PATHS = frozenset({"/api/auth/login/", "/admin/login/"})
WEBHOOK_PATHS = frozenset({"/api/invoices/payments/webhook/", "/api/telegram/webhook/"})
# The endpoints that take files (multipart): a material's create and update, a hand-in, an assignment's attachment,
# a chat send (with its attachment), and the Django admin's forms (a material's file).
UPLOAD_PATHS = re.compile(
    r"^/(?:api/materials/(?:[0-9]+/)?"
    r"|api/assignments/[0-9]+/(?:submissions|attachments)/"
    r"|api/chat/rooms/[0-9]+/messages/"
    r"|admin/.*)$"
)


def body_limit(path: str) -> int:
    """The largest body, in bytes, a request to `path` (decoded, without the query string) may carry."""
    path = path if path.endswith("/") else path + "/"
    if path in LOGIN_PATHS:
        limit = settings.LOGIN_MAX_BODY_SIZE
    elif path in WEBHOOK_PATHS:
        limit = settings.WEBHOOK_MAX_BODY_SIZE
    elif UPLOAD_PATHS.match(path):
        limit = settings.REQUEST_MAX_BODY_SIZE
    else:
        limit = settings.JSON_MAX_BODY_SIZE
    return min(limit, settings.REQUEST_MAX_BODY_SIZE)


def declared_length(value: bytes | str | None) -> int | None:
    """A `Content-Length` value as an int; None when absent or not a plain decimal number."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    # Bounded before the conversion: a thousand-digit length is not worth an int() of it, and too large anyway.
    return int(text) if len(text) <= 19 else 2**63


class BodyLimitGuard:
    """ASGI middleware: a request whose declared or streamed body passes its route's limit is answered 413.

    A declared `Content-Length` above the limit is answered before the application runs. A body streamed in
    `http.request` messages is counted as the application receives it: once the total passes the limit the
    guard answers 413 itself and hands the application an `http.disconnect` (Django then drops the request).
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit(scope.get("path", "/"))
        for name, value in scope.get("headers", []):
            if name.lower() == b"content-length":
                length = declared_length(value)
                if length is not None and length > limit:
                    return await send_too_large(send)
        state = {"received": 0, "answered": False, "started": False}

        async def counted_receive():
            if state["answered"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    if not state["started"]:
                        state["answered"] = True
                        await send_too_large(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if state["answered"]:
                return  # the request was answered 413: whatever the application still sends is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        return await self.app(scope, counted_receive, guarded_send)


async def send_too_large(send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(TOO_LARGE_BODY)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": TOO_LARGE_BODY})
